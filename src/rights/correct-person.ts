// Correction: staff change named fields of a person (name, email) and of their inquiries
// (company, role, country, context). The new values pass the same validation as the
// forms (inquiries/validate-inquiry.ts, run on the record as it would be after the
// change), so a correction can store nothing a visitor could not have submitted.
//
// The audit trail gets one entry per changed record: its id and the names of the fields
// that changed, never a value before or after. The result lists the same (table, id,
// field) triples so the requester can be told what changed. A field given with the
// value it already has is not a change.
//
// A new address is a new subject key: refused when another person already has it (the
// two would have to be merged, a separate decision), and the suppression list follows
// the address (the person's old entry, a hash, stays).
import type { Deps } from '../deps.ts';
import { validateInquiry, type FieldErrors } from '../inquiries/validate-inquiry.ts';
import { subjectKey, subjectKeys } from '../people/subject.ts';
import type { Inquiry } from '../storage/types.ts';
import { inTransaction } from '../unit-of-work.ts';
import type { StaffActorInput } from './find-person-data.ts';
import { copySuppressionTo, inquiriesOf, personById, personBySubjectKeys, updateInquiryRow, updatePersonRow } from './person-data-store.ts';

export const PERSON_FIELDS = ['name', 'email'] as const;
export const INQUIRY_FIELDS = ['company', 'role', 'country', 'context'] as const;
export type PersonField = (typeof PERSON_FIELDS)[number];
export type InquiryField = (typeof INQUIRY_FIELDS)[number];

export interface CorrectionInput extends StaffActorInput {
  personId: string;
  person?: Partial<Record<PersonField, string>>;
  /** Per inquiry id (each must be this person's). */
  inquiries?: Record<string, Partial<Record<InquiryField, string>>>;
}

export interface ChangedField {
  table: 'person' | 'inquiry';
  id: string;
  field: PersonField | InquiryField;
}

export class CorrectionError extends Error {
  readonly code: 'not_found' | 'invalid' | 'conflict';
  /** Per field, keyed `person.name` or `inquiry.<id>.company`: what to fix. */
  readonly fields: Record<string, string>;
  constructor(code: CorrectionError['code'], message: string, fields: Record<string, string> = {}) {
    super(message);
    this.code = code;
    this.fields = fields;
  }
}

function unknownKeys(given: object | undefined, allowed: readonly string[]): string[] {
  return Object.keys(given ?? {}).filter((k) => !allowed.includes(k));
}

export async function correctPerson(deps: Pick<Deps, 'storage' | 'now' | 'mailQueued' | 'signer' | 'policy'>, input: CorrectionInput): Promise<{ changed: ChangedField[] }> {
  const badPerson = unknownKeys(input.person, PERSON_FIELDS);
  const badInquiry = Object.values(input.inquiries ?? {}).flatMap((f) => unknownKeys(f, INQUIRY_FIELDS));
  if (badPerson.length + badInquiry.length > 0) {
    throw new CorrectionError('invalid', `these fields cannot be corrected: ${[...badPerson, ...badInquiry].join(', ')} (person: ${PERSON_FIELDS.join(', ')}; inquiry: ${INQUIRY_FIELDS.join(', ')})`);
  }
  for (const value of [...Object.values(input.person ?? {}), ...Object.values(input.inquiries ?? {}).flatMap((f) => Object.values(f))]) {
    if (typeof value !== 'string') throw new CorrectionError('invalid', 'every corrected value must be text');
  }

  return inTransaction(deps, async (uow) => {
    const at = uow.now.toISOString();
    const person = await personById(uow.trx, input.personId);
    if (!person) throw new CorrectionError('not_found', 'no such person');
    const inquiries = await inquiriesOf(uow.trx, person.id);
    const byId = new Map(inquiries.map((i) => [i.id, i]));
    const foreign = Object.keys(input.inquiries ?? {}).filter((id) => !byId.has(id));
    if (foreign.length > 0) throw new CorrectionError('not_found', `not an inquiry of this person: ${foreign.join(', ')}`);

    // Validate each record as it would be: the person's fields with each inquiry's
    // (a person without inquiries is checked with harmless placeholders for the rest).
    const errors: Record<string, string> = {};
    const personAfter = { name: person.name, email: person.email, ...input.person };
    const asForm = (i: Inquiry | undefined, change: Partial<Record<InquiryField, string>> = {}) => ({
      name: personAfter.name,
      email: personAfter.email,
      company: change.company ?? i?.company ?? 'x',
      role: change.role ?? i?.role ?? 'x',
      country: change.country ?? i?.country ?? 'GB',
      context: change.context ?? i?.context ?? '',
    });
    const clean = (result: ReturnType<typeof validateInquiry>, prefix: string, fields: readonly string[]) => {
      if (result.ok) return result.inquiry;
      const all = result.errors as FieldErrors;
      // A stored value that no longer passes (the policy changed) is named too, or the
      // correction would silently do nothing.
      const named = fields.some((f) => all[f as keyof FieldErrors]) ? fields : Object.keys(all);
      for (const f of named) {
        const message = all[f as keyof FieldErrors];
        if (message) errors[`${prefix}${f}`] = message;
      }
      return undefined;
    };
    const personClean = clean(validateInquiry(deps.policy.policy, asForm(inquiries[0])), 'person.', Object.keys(input.person ?? {}));
    const inquiryClean = new Map<string, ReturnType<typeof clean>>();
    for (const [id, change] of Object.entries(input.inquiries ?? {})) {
      inquiryClean.set(id, clean(validateInquiry(deps.policy.policy, asForm(byId.get(id), change)), `inquiry.${id}.`, Object.keys(change)));
    }
    if (Object.keys(errors).length > 0) throw new CorrectionError('invalid', 'some corrected values are not valid', errors);

    const changed: ChangedField[] = [];
    const personSet: { name?: string; email?: string; subject_key?: string } = {};
    if (input.person?.name !== undefined && personClean && personClean.name !== person.name) personSet.name = personClean.name;
    if (input.person?.email !== undefined && personClean && personClean.email !== person.email) {
      personSet.email = personClean.email;
      const newKey = subjectKey(deps.signer, personClean.email);
      if (!subjectKeys(deps.signer, person.email).includes(newKey)) {
        const other = await personBySubjectKeys(uow.trx, subjectKeys(deps.signer, personClean.email));
        if (other && other.id !== person.id) throw new CorrectionError('conflict', 'another person already has this address', { 'person.email': 'Another person already has this address' });
        await copySuppressionTo(uow.trx, subjectKeys(deps.signer, person.email), newKey, at);
        personSet.subject_key = newKey;
      }
    }
    if (personSet.name !== undefined || personSet.email !== undefined) {
      await updatePersonRow(uow.trx, person.id, personSet, at);
      const fields = PERSON_FIELDS.filter((f) => personSet[f] !== undefined);
      for (const field of fields) changed.push({ table: 'person', id: person.id, field });
      uow.audit({ actor: input.actor, action: 'rights.person_corrected', entityType: 'person', entityId: person.id, details: { fields: fields.join(','), ...(input.requestId ? { request: input.requestId } : {}) } });
    }

    for (const [id, change] of Object.entries(input.inquiries ?? {})) {
      const before = byId.get(id)!;
      const after = inquiryClean.get(id)!;
      const set: Partial<Pick<Inquiry, InquiryField>> = {};
      for (const field of INQUIRY_FIELDS) {
        if (change[field] === undefined) continue;
        if (field === 'context') {
          // Stored as the form stores it: empty is null.
          if ((after.context || null) !== before.context) set.context = after.context || null;
        } else if (after[field] !== before[field]) set[field] = after[field];
      }
      const fields = INQUIRY_FIELDS.filter((f) => f in set);
      if (fields.length === 0) continue;
      await updateInquiryRow(uow.trx, id, set);
      for (const field of fields) changed.push({ table: 'inquiry', id, field });
      uow.audit({ actor: input.actor, action: 'rights.inquiry_corrected', entityType: 'inquiry', entityId: id, details: { person: person.id, fields: fields.join(','), ...(input.requestId ? { request: input.requestId } : {}) } });
    }
    return { changed };
  });
}
