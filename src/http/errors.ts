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
  413: 'That was too much to send',
  415: 'Unsupported format',
  429: 'Too many requests',
  500: 'Something went wrong on our side',
  503: 'Temporarily unavailable',
};
