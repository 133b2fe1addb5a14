// Opens a privacy request, however it arrived (mail, the form, a triage thread), in the
// caller's unit of work: due dates from the clock, a single-use verification link (kept
// only as a keyed hash), the acknowledgement queued in the same COMMIT, and the states
// received -> acknowledged -> verifying recorded. Nothing is merged or closed here: an
// unverified request never touches another.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import type { UnitOfWork } from '../unit-of-work.ts';
import { subjectKey } from '../people/subject.ts';
import { dueDatesFor, toUtcIso, type RequestType } from './due-dates.ts';
import { acknowledgementMail } from './mail.ts';
import { recordEvent, type RequestActor } from './request-events.ts';
import { findBySubmissionKey, insertRequest, updateRequest, type RequestRow } from './store.ts';
import { verifyHash, verifyUrl, VERIFY_LINK_DAYS } from './verification.ts';

export interface OpenRequestInput {
  email: string;
  type: RequestType;
  jurisdiction: string;
  channel: RequestRow['channel'];
  message?: string | null;
  personId?: string | null;
  threadId?: string | null;
  /** The requester's Message-ID, so the acknowledgement threads under their mail. */
  inReplyTo?: string | null;
  submissionKey?: string | null;
  /** When the request reached us, if before this unit of work (mail taken from triage): the clock starts there. */
  receivedAt?: Date;
  actor: RequestActor;
}

const REFERENCE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

function newReference(): string {
  const bytes = randomBytes(8);
  return `PR-${[...bytes].map((b) => REFERENCE_ALPHABET[b % REFERENCE_ALPHABET.length]).join('')}`;
}

export async function openRequest(uow: UnitOfWork, deps: Pick<Deps, 'policy' | 'signer' | 'config'>, input: OpenRequestInput): Promise<{ requestId: string; reference: string; duplicate: boolean }> {
  const at = uow.now.toISOString();
  const receivedAt = input.receivedAt ?? uow.now;
  const due = dueDatesFor(deps, { receivedAt, type: input.type, jurisdiction: input.jurisdiction });
  const id = randomUUID();
  const token = randomBytes(32).toString('base64url');
  const expires = new Date(uow.now.getTime() + VERIFY_LINK_DAYS * 86_400_000).toISOString();
  const base: Omit<RequestRow, 'reference' | 'ack_outbox_id'> = {
    id,
    requester_email: input.email,
    requester_key: subjectKey(deps.signer, input.email),
    person_id: input.personId ?? null,
    type: input.type,
    jurisdiction: input.jurisdiction,
    channel: input.channel,
    status: 'verifying',
    refusal_reason: null,
    message: input.message ?? null,
    submission_key: input.submissionKey ?? null,
    received_at: receivedAt.toISOString(),
    acknowledged_at: at,
    verifying_at: at,
    in_progress_at: null,
    fulfilled_at: null,
    refused_at: null,
    closed_at: null,
    acknowledge_by: toUtcIso(due.acknowledgeBy),
    respond_by: toUtcIso(due.respondBy),
    acknowledge_rule: due.acknowledgeRule.id,
    acknowledge_citation: due.acknowledgeRule.citation,
    respond_rule: due.respondRule.id,
    respond_rule_kind: due.respondRule.kind,
    respond_citation: due.respondRule.citation,
    verify_token_hash: verifyHash(deps.signer, token),
    verify_expires_at: expires,
    verified_at: null,
    package_token_hash: null,
    package_expires_at: null,
    thread_id: input.threadId ?? null,
    merged_into: null,
    alert_50_at: null,
    alert_80_at: null,
    alert_breach_at: null,
    updated_at: at,
  };
  for (let attempt = 1; ; attempt++) {
    const reference = newReference();
    const draft = acknowledgementMail(deps, { ...base, reference }, verifyUrl(deps.config.publicUrl, id, token), VERIFY_LINK_DAYS, input.inReplyTo ?? null);
    // The outbox row is written at COMMIT, with this row: the acknowledgement exists exactly when the request does.
    const inserted = await insertRequest(uow.trx, { ...base, reference, ack_outbox_id: null });
    if (!inserted) {
      // The same form sent twice (a double click, a resend): one request.
      const earlier = input.submissionKey ? await findBySubmissionKey(uow.trx, input.submissionKey) : undefined;
      if (earlier) return { requestId: earlier.id, reference: earlier.reference, duplicate: true };
      if (attempt === 5) throw new Error('no free privacy request reference after 5 draws');
      continue;
    }
    const outboxId = uow.queueMail('privacy-request-acknowledgement', draft, { personId: input.personId ?? null });
    await updateRequest(uow.trx, id, { ack_outbox_id: outboxId });
    const facts = { channel: input.channel, type: input.type, jurisdiction: input.jurisdiction };
    await recordEvent(uow, id, input.actor, 'received', facts);
    await recordEvent(uow, id, { actor: 'system' }, 'acknowledged', { outbox: outboxId, acknowledge_by: base.acknowledge_by, respond_by: base.respond_by, respond_rule: due.respondRule.id });
    await recordEvent(uow, id, { actor: 'system' }, 'verifying', { link_expires_at: expires });
    return { requestId: id, reference, duplicate: false };
  }
}
