// Staff acting on requests: their account id as the actor, the console session in every
// entry. Errors carry a code the console maps to a status and a message it can show.
import type { RequestActor } from './request-events.ts';

export interface StaffActor {
  staffAccountId: string;
  sessionId: string;
}

export function staffActor(actor: StaffActor): RequestActor {
  return { actor: `staff:${actor.staffAccountId}`, sessionId: actor.sessionId };
}

export class RequestError extends Error {
  readonly code: 'not_found' | 'invalid' | 'conflict';
  constructor(code: 'not_found' | 'invalid' | 'conflict', message: string) {
    super(message);
    this.code = code;
  }
}
