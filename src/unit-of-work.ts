// One object for every write: the transaction, plus what must happen with it. Use cases
// receive a UnitOfWork and never need to know whether they run in a group commit (the
// intake path) or a transaction of their own (CLI commands, jobs):
//   - audit(...) appends to the hash chain just before COMMIT (so the chain head is
//     locked only for the commit, and an entry exists exactly when its change does);
//   - queueMail(...) writes to the outbox with the same COMMIT and wakes the mail worker
//     after it;
//   - afterCommit(...) runs only once the change is durable.
import type { Transaction } from 'kysely';
import type { Deps } from './deps.ts';
import { auditCollector, type AuditInput } from './audit/append-audit.ts';
import { outboxCollector, toMessage, type MailRefs } from './mail/queue-mail.ts';
import type { MailDraft } from './mail/draft.ts';
import type { Database } from './storage/types.ts';
import { runInTransaction, type Batch, type Lead } from './storage/write-batcher.ts';

export interface UnitOfWork {
  trx: Transaction<Database>;
  /** The instant this unit of work stands for (every row and entry it writes uses it). */
  now: Date;
  audit(input: AuditInput): void;
  /** Returns the outbox id. The draft is checked now, so a bad one fails this unit. */
  queueMail(kind: string, draft: MailDraft, refs?: MailRefs): string;
  afterCommit(fn: () => void): void;
}

type UnitDeps = Pick<Deps, 'storage' | 'now' | 'mailQueued'>;

function unitOfWork(deps: UnitDeps, trx: Transaction<Database>, batch: Batch, now: Date): UnitOfWork {
  let mailQueued = false;
  return {
    trx,
    now,
    audit: (input) => batch.collect(auditCollector, { at: now, input }),
    queueMail: (kind, draft, refs = {}) => {
      const message = toMessage(now, kind, draft, refs);
      batch.collect(outboxCollector, message);
      if (!mailQueued) {
        mailQueued = true;
        batch.afterCommit(deps.mailQueued);
      }
      return message.id;
    },
    afterCommit: (fn) => batch.afterCommit(fn),
  };
}

/**
 * Runs `work` in the group-commit batcher: resolved only after the COMMIT holding it.
 * Work may run more than once (a neighbour's failure reruns the batch), so it must
 * touch nothing but the unit of work.
 */
export function inBatch<T>(deps: UnitDeps, work: (uow: UnitOfWork) => Promise<T>): Promise<T> {
  return deps.storage.batcher.run((trx, batch) => work(unitOfWork(deps, trx, batch, deps.now())));
}

/** Runs `work` in a transaction of its own, with the same unit of work. */
export function inTransaction<T>(deps: UnitDeps, work: (uow: UnitOfWork) => Promise<T>): Promise<T> {
  return runInTransaction(deps.storage.db, (trx, batch) => work(unitOfWork(deps, trx, batch, deps.now())));
}

/**
 * `inBatch` for work that opens with a lead statement: `item(now)` goes into one statement
 * with the items of the other jobs in the batch, and `work` starts with its own result
 * (and the item).
 * `now` is fixed when the work is queued, so a rerun writes the same instant.
 */
export function inBatchLed<I, R, T>(deps: UnitDeps, lead: Lead<I, R>, item: (now: Date) => I, work: (uow: UnitOfWork, led: R, item: I) => Promise<T>): Promise<T> {
  const now = deps.now();
  const leadItem = item(now);
  return deps.storage.batcher.runLed(lead, leadItem, (trx, batch, led) => work(unitOfWork(deps, trx, batch, now), led, leadItem));
}

