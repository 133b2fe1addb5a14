// Everything held about one address. The address is normalised as people/subject.ts does
// and the person found by every form of their subject key (current key, previous key,
// pre-key-id), then what hangs off the person row is read by its id, and what does not
// (mail from the address that matched nobody, outbox mail to it, suppression and
// withdrawal-link entries under the subject key) by the address or the key.
//
// Conversations: a thread is the person's when it is recorded as theirs or their
// inquiry's, or when it sits in triage unclaimed and holds mail from their address. In a
// thread of theirs, every message counts as about them (their mail, our replies, mail
// whose sender could not be read) except mail from another known sender or address:
// that is someone else's and is neither disclosed nor erased with them. Mail they sent
// into someone else's thread counts, without the rest of that thread.
import type { Transaction } from 'kysely';
import type { Deps } from '../deps.ts';
import type { Signer } from '../http/signing.ts';
import { isSingleAddress } from '../mail/queue-mail.ts';
import { normaliseAddress, subjectKeys } from '../people/subject.ts';
import type { ConsentRecord, Database, Inquiry, OutboxRow, Person } from '../storage/types.ts';
import { inBatch } from '../unit-of-work.ts';
import { requestsOfRequester, type RequestRow } from './store.ts';
import {
  attachmentMetaOf,
  consentConfirmationsOf,
  consentRecordsOf,
  erasureProofsOf,
  inquiriesOf,
  mailAllowancesOf,
  messagesFrom,
  messagesOfThreads,
  outboxOf,
  personBySubjectKeys,
  suppressionOf,
  threadsByIds,
  threadsOfPerson,
  withdrawalRequestsOf,
  type AttachmentMetaRow,
  type MessageRow,
  type ThreadRow,
} from './person-data-store.ts';

export interface PersonData {
  /** The address as asked for, normalised (trimmed, lower-cased). */
  address: string;
  /** Every stored form of the address's keyed hash. */
  subjectKeys: string[];
  person: Person | undefined;
  inquiries: Inquiry[];
  consentRecords: ConsentRecord[];
  consentConfirmations: Awaited<ReturnType<typeof consentConfirmationsOf>>;
  /** The person's threads (see the file's header). */
  threads: ThreadRow[];
  /** Messages about the person: in their threads (others' mail excepted), and theirs elsewhere. */
  messages: MessageRow[];
  /** In the person's threads, mail from someone else: kept out of the package and the erasure. */
  othersMessages: MessageRow[];
  attachments: AttachmentMetaRow[];
  outbox: OutboxRow[];
  suppression: Awaited<ReturnType<typeof suppressionOf>>;
  withdrawalRequests: Awaited<ReturnType<typeof withdrawalRequestsOf>>;
  mailAllowances: Awaited<ReturnType<typeof mailAllowancesOf>>;
  erasureProofs: Awaited<ReturnType<typeof erasureProofsOf>>;
  /** Their privacy requests (by the requester's keyed hash), earlier ones included. */
  privacyRequests: RequestRow[];
}

function byTimeThenId<T extends { id: string }>(time: (row: T) => string): (a: T, b: T) => number {
  return (a, b) => (time(a) < time(b) ? -1 : time(a) > time(b) ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function unique<T extends { id: string }>(rows: T[]): T[] {
  return [...new Map(rows.map((r) => [r.id, r])).values()];
}

/** Bad input to the rights functions (the desk shows `message`; it names no stored value). */
export class PersonDataError extends Error {
  readonly code = 'invalid';
}

/** The address, normalised; refused unless it is one plain address (never a pattern). */
export function checkedAddress(email: unknown): string {
  if (typeof email !== 'string') throw new PersonDataError('the email address is missing');
  const address = normaliseAddress(email);
  if (address.length === 0) throw new PersonDataError('the email address is empty');
  if (address.length > 320 || !isSingleAddress(address)) throw new PersonDataError('this is not one email address (name@example.com)');
  return address;
}

/** Reads everything about the address in the transaction given (no audit: callers audit). */
export async function collectPersonData(trx: Transaction<Database>, signer: Signer, email: string): Promise<PersonData> {
  const address = checkedAddress(email);
  const keys = subjectKeys(signer, address);
  const person = await personBySubjectKeys(trx, keys);
  const personId = person?.id;
  const inquiries = personId ? await inquiriesOf(trx, personId) : [];
  const ownThreadRows = await threadsOfPerson(trx, personId, inquiries.map((i) => i.id));
  const sent = await messagesFrom(trx, personId, address);

  const isTheirs = (m: MessageRow) => (personId !== undefined && m.from_person_id === personId) || (m.from_address !== null && normaliseAddress(m.from_address) === address);
  const isSomeoneElses = (m: MessageRow) => !isTheirs(m) && m.direction === 'in' && (m.from_person_id !== null || m.from_address !== null);

  // An unclaimed triage thread holding their mail is theirs too, unless someone else
  // wrote in it as well (then its subject may be the other's; only their mail counts).
  const known = new Set(ownThreadRows.map((t) => t.id));
  const candidates = [...new Set(sent.map((m) => m.thread_id))].filter((id) => !known.has(id));
  const unclaimed = (await threadsByIds(trx, candidates)).filter((t) => t.inquiry_id === null && t.person_id === null);
  const inUnclaimed = await messagesOfThreads(trx, unclaimed.map((t) => t.id));
  const shared = new Set(inUnclaimed.filter(isSomeoneElses).map((m) => m.thread_id));
  const triage = unclaimed.filter((t) => !shared.has(t.id));
  const threads = unique([...ownThreadRows, ...triage]).sort(byTimeThenId((t) => t.created_at));
  const threadIds = new Set(threads.map((t) => t.id));

  const inThreads = await messagesOfThreads(trx, [...threadIds]);
  const messages = unique([...inThreads.filter((m) => !isSomeoneElses(m)), ...sent]).sort(byTimeThenId((m) => m.at));
  const othersMessages = inThreads.filter(isSomeoneElses).sort(byTimeThenId((m) => m.at));
  const attachments = await attachmentMetaOf(trx, messages.map((m) => m.id));

  return {
    address,
    subjectKeys: keys,
    person,
    inquiries,
    consentRecords: personId ? await consentRecordsOf(trx, personId) : [],
    consentConfirmations: personId ? await consentConfirmationsOf(trx, personId) : [],
    threads,
    messages,
    othersMessages,
    attachments: attachments.sort((a, b) => (a.id < b.id ? -1 : 1)),
    outbox: unique(await outboxOf(trx, personId, address)).sort(byTimeThenId((o) => o.created_at)),
    suppression: await suppressionOf(trx, keys),
    withdrawalRequests: await withdrawalRequestsOf(trx, keys),
    mailAllowances: await mailAllowancesOf(trx, keys),
    erasureProofs: await erasureProofsOf(trx, keys),
    privacyRequests: await requestsOfRequester(trx, keys),
  };
}

/** Row counts per table: what audit entries and reports carry instead of the rows. */
export function countsOf(data: PersonData): Record<string, number> {
  return {
    person: data.person ? 1 : 0,
    inquiry: data.inquiries.length,
    consent_record: data.consentRecords.length,
    consent_confirmation: data.consentConfirmations.length,
    mail_thread: data.threads.length,
    mail_message: data.messages.length,
    mail_attachment: data.attachments.length,
    outbox: data.outbox.length,
    suppression: data.suppression.length,
    withdrawal_request: data.withdrawalRequests.length,
    mail_allowance: data.mailAllowances.length,
    erasure_proof: data.erasureProofs.length,
    privacy_request: data.privacyRequests.length,
  };
}

export interface StaffActorInput {
  /** Who asks, as the audit trail names them (e.g. `staff:<account id>`, `system`). */
  actor: string;
  /** Recorded with the entry when the read is part of a privacy request. */
  requestId?: string;
}

/**
 * The desk's search: everything held about an address, as rows. A staff read of personal
 * data, so it is audited (the person's id and counts per table; never the address).
 */
export async function findPersonData(deps: Pick<Deps, 'storage' | 'now' | 'mailQueued' | 'signer'>, input: StaffActorInput & { email: string }): Promise<PersonData> {
  checkedAddress(input.email);
  return inBatch(deps, async (uow) => {
    const data = await collectPersonData(uow.trx, deps.signer, input.email);
    uow.audit({
      actor: input.actor,
      action: 'rights.person_data_found',
      entityType: 'person',
      entityId: data.person?.id ?? '',
      details: { ...countsOf(data), ...(input.requestId ? { request: input.requestId } : {}) },
    });
    return data;
  });
}
