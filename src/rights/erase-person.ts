// Erasure: everything held about one address goes in ONE transaction, except what a
// legal hold or a contract covers; the only trace kept is the keyed hash of the address,
// on the suppression list (so we never mail them again) and in the proof of deletion
// (`erasure_proof`: when, by whom, counts per table erased and kept, with the hold ids).
//
// What goes (found by find-person-data.ts): the person row, their inquiries, consent
// records and pending confirmations, their threads with every message and attachment
// (triage mail from the address included), mail they sent into others' threads, every
// outbox row about them or to their address (pending mail, and the staff notification
// that copied their details), withdrawal-link requests and mail allowances under their
// subject key. Rows are deleted by id, children first, so the counts are exact; the
// person row's cascades then find nothing left.
//
// Holds (the retention engine's `findHoldsCovering`, asked inside this transaction, so a
// hold placed meanwhile is either seen or placed after): a hold on the person or on their company's domain keeps
// everything; a hold on an inquiry keeps that inquiry, its threads and their messages,
// its outbox rows and the person row they depend on (inquiry.person_id is required).
// The result lists what was kept and why, for the answer to the requester.
//
// A thread of theirs that also holds mail from someone else is not deleted: their mail
// goes, and the thread, with the other sender's mail only, goes back to triage.
//
// The deletion log (retention/deletion-log.ts) gets one entry in the same transaction:
// rule `erasure_request`, counts per table and keyed hashes of every deleted row's id,
// so a restore of an older backup can delete those rows again.
//
// The requester's privacy requests (found by every form of the subject key) lose the
// address and their free text in the same transaction, last, so a caller's `within` step
// (the desk's fulfilment) can first queue the answer to the address: the outbox row is
// the one copy left, and its contents are erased once sent. A hold on the person or their
// domain keeps the requests as they are, like everything else.
//
// After COMMIT, storage/scrub.ts checkpoints SQLite's WAL so no old page version keeps
// the deleted text (secure_delete already zeroes the pages themselves).
import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { subjectKey } from '../people/subject.ts';
import { hashDeletedIds, recordDeletion } from '../retention/deletion-log.ts';
import { findHoldsCovering, type Hold } from '../retention/holds.ts';
import { scrubAfterDeletion, type ScrubResult } from '../storage/scrub.ts';
import { inTransaction } from '../unit-of-work.ts';
import { checkedAddress, collectPersonData, type PersonData, type StaffActorInput } from './find-person-data.ts';
import { deleteByIds, deleteBySubjectKeys, detachThread, insertErasureProof, suppress } from './person-data-store.ts';
import { redactRequestsOf } from './store.ts';
import type { UnitOfWork } from '../unit-of-work.ts';

export interface KeptPart {
  table: string;
  ids: string[];
  hold: Pick<Hold, 'id' | 'kind' | 'scope' | 'reason' | 'until'>;
}

export interface ErasureResult {
  /** The person row's id (undefined when the address matched no person). */
  personId: string | undefined;
  proofId: string;
  /** Rows deleted, per table. */
  erased: Record<string, number>;
  /** Threads handed back to triage because they also hold someone else's mail. */
  detachedThreads: number;
  /** What a hold kept, per table, with the hold (its reason is for the requester's answer). */
  kept: KeptPart[];
  scrub: ScrubResult;
  /** The requester's privacy requests whose address and free text were removed. */
  redactedRequests: number;
}

/** A step run inside the erasure's transaction, before the requests are redacted. */
export type WithinErasure = (uow: UnitOfWork, result: Omit<ErasureResult, 'scrub' | 'redactedRequests'>) => Promise<void>;

const TABLES = ['mail_attachment', 'mail_message', 'mail_thread', 'outbox', 'consent_confirmation', 'consent_record', 'inquiry', 'withdrawal_request', 'mail_allowance', 'person'] as const;

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

function holdSummary(h: Hold): KeptPart['hold'] {
  return { id: h.id, kind: h.kind, scope: h.scope, reason: h.reason, until: h.until };
}

/** Everything found, per table, as kept by one hold (a hold on the person or domain). */
function keepAll(data: PersonData, hold: Hold): KeptPart[] {
  const parts: Array<[string, string[]]> = [
    ['person', data.person ? [data.person.id] : []],
    ['inquiry', data.inquiries.map((i) => i.id)],
    ['consent_record', data.consentRecords.map((c) => c.id)],
    ['consent_confirmation', data.consentConfirmations.map((c) => c.id)],
    ['mail_thread', data.threads.map((t) => t.id)],
    ['mail_message', data.messages.map((m) => m.id)],
    ['mail_attachment', data.attachments.map((a) => a.id)],
    ['outbox', data.outbox.map((o) => o.id)],
  ];
  return parts.filter(([, ids]) => ids.length > 0).map(([table, ids]) => ({ table, ids, hold: holdSummary(hold) }));
}

export interface ErasureInput extends StaffActorInput {
  email: string;
}

export async function erasePerson(deps: Pick<Deps, 'storage' | 'now' | 'mailQueued' | 'signer'>, input: ErasureInput, within?: WithinErasure): Promise<ErasureResult> {
  checkedAddress(input.email);
  const committed = await inTransaction(deps, async (uow) => {
    const trx = uow.trx;
    const at = uow.now.toISOString();
    const data = await collectPersonData(trx, deps.signer, input.email);
    const personId = data.person?.id;
    const holds = await findHoldsCovering(trx, { personId, inquiryIds: data.inquiries.map((i) => i.id), emailDomain: domainOf(data.address) }, at);

    const erased: Record<string, number> = Object.fromEntries(TABLES.map((t) => [t, 0]));
    let kept: KeptPart[] = [];
    let detachedThreads = 0;
    const deletedIds: string[] = [];
    const drop = (table: Parameters<typeof deleteByIds>[1], ids: string[]) => {
      deletedIds.push(...ids);
      return deleteByIds(trx, table, ids);
    };
    const wholeHold = holds.find((h) => h.scope === 'person' || h.scope === 'domain');
    if (wholeHold) {
      kept = keepAll(data, wholeHold);
    } else {
      // Holds on inquiries: those inquiries, their conversations and mail stay.
      const heldBy = new Map<string, Hold>();
      for (const h of holds) if (h.scope === 'inquiry') heldBy.set(h.scopeId, h);
      const heldInquiries = data.inquiries.filter((i) => heldBy.has(i.id));
      const threadHold = new Map(data.threads.filter((t) => t.inquiry_id !== null && heldBy.has(t.inquiry_id)).map((t) => [t.id, heldBy.get(t.inquiry_id!)!]));
      const goingMessages = data.messages.filter((m) => !threadHold.has(m.thread_id));
      const goingMessageIds = new Set(goingMessages.map((m) => m.id));

      erased.mail_attachment = await drop('mail_attachment', data.attachments.filter((a) => goingMessageIds.has(a.message_id)).map((a) => a.id));
      erased.mail_message = await drop('mail_message', [...goingMessageIds]);
      const othersIn = new Map<string, string>();
      for (const m of data.othersMessages) if (!othersIn.has(m.thread_id)) othersIn.set(m.thread_id, m.subject);
      const goingThreads: string[] = [];
      for (const t of data.threads) {
        if (threadHold.has(t.id)) continue;
        const othersSubject = othersIn.get(t.id);
        if (othersSubject === undefined) goingThreads.push(t.id);
        else {
          // The subject may be theirs; the earliest remaining message's stands for it.
          await detachThread(trx, t.id, othersSubject);
          detachedThreads++;
        }
      }
      erased.mail_thread = await drop('mail_thread', goingThreads);
      const outboxHold = (o: PersonData['outbox'][number]) => (o.inquiry_id !== null ? heldBy.get(o.inquiry_id) : undefined);
      erased.outbox = await drop('outbox', data.outbox.filter((o) => !outboxHold(o)).map((o) => o.id));
      erased.consent_confirmation = await drop('consent_confirmation', data.consentConfirmations.map((c) => c.id));
      erased.consent_record = await drop('consent_record', data.consentRecords.map((c) => c.id));
      erased.inquiry = await drop('inquiry', data.inquiries.filter((i) => !heldBy.has(i.id)).map((i) => i.id));
      erased.withdrawal_request = await deleteBySubjectKeys(trx, 'withdrawal_request', data.subjectKeys);
      erased.mail_allowance = await deleteBySubjectKeys(trx, 'mail_allowance', data.subjectKeys);
      if (personId && heldInquiries.length === 0) erased.person = await drop('person', [personId]);

      for (const i of heldInquiries) {
        const hold = holdSummary(heldBy.get(i.id)!);
        const threads = data.threads.filter((t) => t.inquiry_id === i.id).map((t) => t.id);
        const messages = data.messages.filter((m) => threads.includes(m.thread_id));
        const messageIds = new Set(messages.map((m) => m.id));
        const parts: Array<[string, string[]]> = [
          ['inquiry', [i.id]],
          ['mail_thread', threads],
          ['mail_message', [...messageIds]],
          ['mail_attachment', data.attachments.filter((a) => messageIds.has(a.message_id)).map((a) => a.id)],
          ['outbox', data.outbox.filter((o) => o.inquiry_id === i.id).map((o) => o.id)],
        ];
        for (const [table, ids] of parts) if (ids.length > 0) kept.push({ table, ids, hold });
      }
      if (personId && heldInquiries.length > 0) {
        // The held inquiries cannot exist without their person row.
        kept.unshift({ table: 'person', ids: [personId], hold: holdSummary(heldBy.get(heldInquiries[0].id)!) });
      }
    }

    const deletedCounts = Object.fromEntries(Object.entries(erased).filter(([, n]) => n > 0));
    if (Object.keys(deletedCounts).length > 0) {
      await recordDeletion(trx, {
        rule: 'erasure_request',
        category: 'people',
        counts: deletedCounts,
        affectedIdHashes: hashDeletedIds(deps.signer, new Set(deletedIds)),
        startedAt: at,
        finishedAt: deps.now().toISOString(),
      });
    }

    // The one trace: the address's keyed hash, so we never write to it again.
    await suppress(trx, subjectKey(deps.signer, data.address), 'erasure', at);
    const proofId = randomUUID();
    const keptCounts = kept.map((k) => ({ table: k.table, count: k.ids.length, holdId: k.hold.id, kind: k.hold.kind }));
    await insertErasureProof(trx, {
      id: proofId,
      subject_key: subjectKey(deps.signer, data.address),
      erased_at: at,
      actor: input.actor,
      erased: JSON.stringify(erased),
      kept: JSON.stringify(keptCounts),
    });
    const keptRows = kept.reduce((n, k) => n + k.ids.length, 0);
    if (within) await within(uow, { personId, proofId, erased, detachedThreads, kept });
    const redactedRequests = wholeHold ? 0 : await redactRequestsOf(trx, data.subjectKeys, at);
    uow.audit({
      actor: input.actor,
      action: 'rights.person_erased',
      entityType: 'person',
      entityId: personId ?? '',
      details: {
        proof: proofId,
        ...Object.fromEntries(Object.entries(erased).map(([t, n]) => [`erased_${t}`, n])),
        detached_threads: detachedThreads,
        redacted_requests: redactedRequests,
        kept_rows: keptRows,
        holds: [...new Set(kept.map((k) => k.hold.id))].join(','),
        ...(input.requestId ? { request: input.requestId } : {}),
      },
    });
    return { personId, proofId, erased, detachedThreads, kept, redactedRequests };
  });
  // Only once the deletion is durable: the WAL's old page versions go too.
  const scrub = await scrubAfterDeletion(deps.storage);
  return { ...committed, scrub };
}
