// Legal holds and contractual obligations. While one applies, nothing it covers is
// deleted: not by the sweep, not by an erasure request (the erasure use case asks
// `findHoldsCovering` first). A hold covers a person (everything about them), one inquiry
// (with its correspondence), or a company's email domain (everyone whose address is
// there). Holds are placed and lifted explicitly, each audited; a contract also ends on
// its end date. Lifted holds stay as a record.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Deps } from '../deps.ts';
import type { Database } from '../storage/types.ts';
import { inTransaction } from '../unit-of-work.ts';
import { activeHolds, findHoldRow, findInquiryId, insertHold, listHoldRows, markHoldLifted, personExists, type HoldRow } from './store.ts';

export type HoldKind = 'legal_hold' | 'contract';
export type HoldScope = 'person' | 'inquiry' | 'domain';
export const HOLD_KINDS: readonly HoldKind[] = ['legal_hold', 'contract'];
export const HOLD_SCOPES: readonly HoldScope[] = ['person', 'inquiry', 'domain'];
export const MAX_REASON_LENGTH = 500;

export interface Hold {
  id: string;
  kind: HoldKind;
  scope: HoldScope;
  /** A person id, an inquiry id, or a lower-case email domain. */
  scopeId: string;
  reason: string;
  /** A contract's end (ISO instant); null for a legal hold, which lasts until lifted. */
  until: string | null;
}

export interface HoldRecord extends Hold {
  placedBy: string;
  placedAt: string;
  liftedBy: string | null;
  liftedAt: string | null;
}

export class RetentionError extends Error {
  readonly code: 'invalid' | 'not_found' | 'conflict';
  constructor(code: 'invalid' | 'not_found' | 'conflict', message: string) {
    super(message);
    this.code = code;
  }
}

/** Who acts: `cli`, or a staff account with the session it acted in. */
export interface RetentionActor {
  actor: string;
  sessionId?: string;
}

const toHold = (r: HoldRow): Hold => ({ id: r.id, kind: r.kind, scope: r.scope, scopeId: r.scope_id, reason: r.reason, until: r.until });
const toRecord = (r: HoldRow): HoldRecord => ({ ...toHold(r), placedBy: r.placed_by, placedAt: r.placed_at, liftedBy: r.lifted_by, liftedAt: r.lifted_at });

/** `@Example.COM` or `example.com` -> `example.com`; undefined when it is not a domain name. */
export function normaliseDomain(input: string): string | undefined {
  const d = input.trim().replace(/^@/, '').replace(/\.$/, '').toLowerCase();
  return /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/.test(d) ? d : undefined;
}

/** The domain of an address, as domain holds name it. */
export function domainOf(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  return at < 0 ? undefined : normaliseDomain(email.slice(at + 1));
}

/**
 * The holds in force at `nowIso` that cover any of: the person, any of the inquiries, the
 * email domain. An empty answer means none of them is held.
 */
export async function findHoldsCovering(
  db: Kysely<Database> | Transaction<Database>,
  target: { personId?: string; inquiryIds?: string[]; emailDomain?: string },
  nowIso: string,
): Promise<Hold[]> {
  const domain = target.emailDomain === undefined ? undefined : normaliseDomain(target.emailDomain);
  const rows = await activeHolds(db, nowIso, {
    persons: target.personId ? [target.personId] : [],
    inquiries: target.inquiryIds ?? [],
    domains: domain ? [domain] : [],
  });
  return rows.map(toHold);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A contract's end date (YYYY-MM-DD, in force through that day) or instant, as an ISO instant. */
function endOf(input: string): string | undefined {
  const text = input.trim();
  const date = DAY.test(text) ? new Date(`${text}T23:59:59.999Z`) : /^\d{4}-\d{2}-\d{2}T/.test(text) ? new Date(text) : undefined;
  if (!date || Number.isNaN(date.getTime())) return undefined;
  if (DAY.test(text) && date.toISOString().slice(0, 10) !== text) return undefined; // 2027-02-30
  return date.toISOString();
}

export interface PlaceHoldInput extends RetentionActor {
  kind: string;
  scope: string;
  /** A person id; an inquiry id or reference; or an email domain. */
  target: string;
  reason: string;
  /** Required for a contract: its end date. */
  until?: string;
}

type UnitDeps = Pick<Deps, 'storage' | 'now' | 'mailQueued'>;

export async function placeHold(deps: UnitDeps, input: PlaceHoldInput): Promise<Hold> {
  if (!HOLD_KINDS.includes(input.kind as HoldKind)) throw new RetentionError('invalid', 'the kind must be legal_hold or contract');
  if (!HOLD_SCOPES.includes(input.scope as HoldScope)) throw new RetentionError('invalid', 'the scope must be person, inquiry or domain');
  const kind = input.kind as HoldKind;
  const scope = input.scope as HoldScope;
  const reason = input.reason.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').trim();
  if (!reason) throw new RetentionError('invalid', 'give a reason (the matter or the contract the hold is for)');
  if (reason.length > MAX_REASON_LENGTH) throw new RetentionError('invalid', `the reason is longer than ${MAX_REASON_LENGTH} characters`);
  let until: string | null = null;
  if (kind === 'contract') {
    if (!input.until?.trim()) throw new RetentionError('invalid', 'a contractual obligation needs its end date (YYYY-MM-DD)');
    const end = endOf(input.until);
    if (!end) throw new RetentionError('invalid', 'the end date must be a date written YYYY-MM-DD');
    if (end <= deps.now().toISOString()) throw new RetentionError('invalid', 'the end date is already past');
    until = end;
  } else if (input.until?.trim()) {
    throw new RetentionError('invalid', 'a legal hold has no end date: it lasts until it is lifted');
  }
  const target = input.target.trim();
  return inTransaction(deps, async (uow) => {
    let scopeId: string;
    if (scope === 'domain') {
      const domain = normaliseDomain(target);
      if (!domain) throw new RetentionError('invalid', 'the domain must be a domain name such as example.com');
      scopeId = domain;
    } else if (scope === 'person') {
      if (!UUID.test(target) || !(await personExists(uow.trx, target.toLowerCase()))) throw new RetentionError('not_found', 'no person has that id');
      scopeId = target.toLowerCase();
    } else {
      const id = target && (await findInquiryId(uow.trx, target));
      if (!id) throw new RetentionError('not_found', 'no inquiry has that id or reference');
      scopeId = id;
    }
    const row: HoldRow = { id: randomUUID(), kind, scope, scope_id: scopeId, reason, until, placed_by: input.actor, placed_at: uow.now.toISOString(), lifted_by: null, lifted_at: null };
    await insertHold(uow.trx, row);
    // The domain is a company's, and person/inquiry scopes are ids; the reason is not audited.
    uow.audit({
      actor: input.actor,
      action: 'retention.hold_placed',
      entityType: 'retention_hold',
      entityId: row.id,
      details: { kind, scope, scope_id: scopeId, ...(until ? { until } : {}), ...(input.sessionId ? { session: input.sessionId } : {}) },
    });
    return toHold(row);
  });
}

/** Holds in place (and, when asked, lifted ones), newest first; the read is audited. */
export async function listHolds(deps: UnitDeps, input: RetentionActor & { includeLifted?: boolean }): Promise<HoldRecord[]> {
  return inTransaction(deps, async (uow) => {
    const rows = await listHoldRows(uow.trx, input.includeLifted ?? false);
    uow.audit({ actor: input.actor, action: 'retention.holds_listed', entityType: 'retention_hold', entityId: '*', details: { count: rows.length, include_lifted: input.includeLifted ?? false, ...(input.sessionId ? { session: input.sessionId } : {}) } });
    return rows.map(toRecord);
  });
}

export async function liftHold(deps: UnitDeps, input: RetentionActor & { holdId: string }): Promise<HoldRecord> {
  const id = input.holdId.trim().toLowerCase();
  if (!UUID.test(id)) throw new RetentionError('invalid', 'the hold id must be an id as `lumetrax hold list` shows it');
  return inTransaction(deps, async (uow) => {
    const row = await findHoldRow(uow.trx, id);
    if (!row) throw new RetentionError('not_found', 'no hold has that id');
    const at = uow.now.toISOString();
    if (!(await markHoldLifted(uow.trx, id, input.actor, at))) throw new RetentionError('conflict', 'that hold was lifted already');
    uow.audit({ actor: input.actor, action: 'retention.hold_lifted', entityType: 'retention_hold', entityId: id, details: { kind: row.kind, scope: row.scope, ...(input.sessionId ? { session: input.sessionId } : {}) } });
    return toRecord({ ...row, lifted_by: input.actor, lifted_at: at });
  });
}
