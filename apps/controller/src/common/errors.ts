/** Stable error codes; the HTTP layer maps each to one status (see `http-exception.filter.ts`). */
export enum ErrorCode {
  VALIDATION = 'validation_failed',
  UNAUTHENTICATED = 'unauthenticated',
  FORBIDDEN = 'forbidden',
  NOT_FOUND = 'not_found',
  CONFLICT = 'conflict',
  PAYLOAD_TOO_LARGE = 'payload_too_large',
  RATE_LIMITED = 'rate_limited',
  UNAVAILABLE = 'unavailable',
  INTERNAL = 'internal',
}

/** One reason an input was rejected, naming the offending field by its path (`nodes[1].port`). */
export interface FieldIssue {
  field: string;
  reason: string;
}

/** A domain error: services throw these; one global filter turns them into HTTP answers. */
export class VigilError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldIssue[],
    /** Seconds to wait before trying again (429, 503). */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'VigilError';
  }

  static validation(details: FieldIssue[]): VigilError {
    const summary = details.map((d) => `${d.field}: ${d.reason}`).join('; ');
    return new VigilError(ErrorCode.VALIDATION, summary || 'invalid input', details);
  }

  static notFound(what: string): VigilError {
    return new VigilError(ErrorCode.NOT_FOUND, `${what} not found`);
  }

  static conflict(message: string, field?: string): VigilError {
    return new VigilError(ErrorCode.CONFLICT, message, field ? [{ field, reason: message }] : undefined);
  }
}

export const ERROR_STATUS: Record<ErrorCode, number> = {
  [ErrorCode.VALIDATION]: 400,
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.CONFLICT]: 409,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.UNAVAILABLE]: 503,
  [ErrorCode.INTERNAL]: 500,
};
