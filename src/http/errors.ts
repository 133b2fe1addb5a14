// One error type carrying a code, an internal message and a message for the user; the
// edge maps codes to statuses. 5xx bodies stay generic.
export type ErrorCode =
  | 'bad_request'
  | 'forbidden'
  | 'not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

export const statusForCode: Record<ErrorCode, number> = {
  bad_request: 400,
  forbidden: 403,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly userMessage: string;
  constructor(code: ErrorCode, userMessage: string, internalMessage?: string) {
    super(internalMessage ?? userMessage);
    this.code = code;
    this.userMessage = userMessage;
  }
}

export const titles: Record<number, string> = {
  400: 'That request could not be understood',
  403: 'That request was refused',
  404: 'Page not found',
  405: 'Method not allowed',
  408: 'That took too long',
  413: 'That was too much to send',
  414: 'That address is too long',
  415: 'Unsupported format',
  429: 'Too many requests',
  431: 'That request was too large',
  500: 'Something went wrong on our side',
  503: 'Temporarily unavailable',
};

/**
 * What a visitor reads for a refusal the app did not word itself (framework and
 * connection errors). Fixed texts: nothing from the request is ever echoed.
 */
export function messageForStatus(status: number, bodyLimitBytes: number): string {
  if (status >= 500) return 'Please try again in a few minutes. If it keeps happening, write to us by email.';
  switch (status) {
    case 404:
      return 'There is no page at this address.';
    case 405:
      return 'This address does not take that kind of request.';
    case 408:
      return 'What was sent arrived too slowly, so we stopped waiting. Please try again.';
    case 413:
      return `What you sent is larger than we accept (${Math.floor(bodyLimitBytes / 1024)} KB). Please shorten it and try again.`;
    case 414:
      return 'That web address is longer than any page on this site. Please check the link.';
    case 415:
      return 'We accept forms sent as application/x-www-form-urlencoded only.';
    case 431:
      return 'The request carried more header data than we accept. Clearing this site’s cookies may help.';
    default:
      return 'We could not read what was sent. Please go back and try again.';
  }
}
