// What every domain hands the outbox: a plain-text message to one address. Personal
// values appear only in bodies, never in headers except validated addresses.
export interface MailDraft {
  to: string;
  subject: string;
  text: string;
  headers: Record<string, string>;
}

/** Collapses line breaks, so a value typed on one line stays on one line of a mail body. */
export function oneLine(value: string): string {
  return value.replace(/[\r\n\u2028\u2029\u0085]+/g, ' ');
}

export function unsubscribeHeaders(unsubscribeUrl: string): Record<string, string> {
  // RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" to this URL.
  return { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}
