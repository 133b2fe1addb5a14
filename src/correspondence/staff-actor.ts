// How staff appear in the audit trail: their account id, and the session they acted in.
export interface StaffActor {
  /** The staff account id. */
  staffAccountId: string;
  /** The console session id (recorded with every entry). */
  sessionId: string;
}

export function actorOf(actor: StaffActor): string {
  return `staff:${actor.staffAccountId}`;
}

export class CorrespondenceError extends Error {
  readonly code: 'not_found' | 'invalid' | 'conflict';
  constructor(code: 'not_found' | 'invalid' | 'conflict', message: string) {
    super(message);
    this.code = code;
  }
}
