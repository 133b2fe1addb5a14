// The console's roles: sales sees and answers inquiries; privacy sees everything personal
// and runs requests, holds and the audit view; admin manages accounts.
export const ROLES = ['admin', 'privacy', 'sales'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Roles that must give a TOTP code (or a recovery code) at every sign-in. */
export function needsTotp(role: Role): boolean {
  return role === 'admin' || role === 'privacy';
}
