import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { QueryFailedError } from 'typeorm';
import { ERROR_STATUS, ErrorCode, type FieldIssue, VigilError } from './errors.js';

/** The body of every error answer; documented in OpenAPI as `ErrorResponse`. */
export interface ErrorBody {
  statusCode: number;
  error: ErrorCode;
  message: string;
  details?: FieldIssue[];
  errorId?: string;
}

const HTTP_CODES: Record<number, ErrorCode> = {
  400: ErrorCode.VALIDATION,
  401: ErrorCode.UNAUTHENTICATED,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.NOT_FOUND,
  409: ErrorCode.CONFLICT,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  429: ErrorCode.RATE_LIMITED,
  503: ErrorCode.UNAVAILABLE,
};

/** The answer for a domain error (also used by routes served outside Nest). */
export function vigilErrorBody(e: VigilError): ErrorBody {
  return { statusCode: ERROR_STATUS[e.code], error: e.code, message: e.message, details: e.details };
}

/** Headers that go with an error status. */
export function errorHeaders(statusCode: number, retryAfterS?: number): Record<string, string> {
  if (statusCode === 401) return { 'WWW-Authenticate': 'Bearer realm="vigil"' };
  if (statusCode === 429 || statusCode === 503) return { 'Retry-After': String(retryAfterS ?? 1) };
  return {};
}

/** Postgres SQLSTATEs that mean "the client asked for something the schema forbids". */
const PG_CLIENT_ERRORS: Record<string, ErrorCode> = {
  '23505': ErrorCode.CONFLICT, // unique_violation
  '23503': ErrorCode.CONFLICT, // foreign_key_violation
  '23514': ErrorCode.VALIDATION, // check_violation
  '23502': ErrorCode.VALIDATION, // not_null_violation
  '22P02': ErrorCode.VALIDATION, // invalid_text_representation
  '22003': ErrorCode.VALIDATION, // numeric_value_out_of_range
  '22001': ErrorCode.VALIDATION, // string_data_right_truncation
  '22008': ErrorCode.VALIDATION, // datetime_field_overflow (a date outside PostgreSQL's range)
};

/**
 * The one place that turns thrown errors into HTTP answers. Client mistakes keep their status and
 * reason; anything unexpected is a 500 that carries only an `errorId`, which is also in the log.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const body = this.toBody(exception, req);
    if (res.headersSent) return;
    const retryAfterS = exception instanceof VigilError ? exception.retryAfterS : undefined;
    for (const [name, value] of Object.entries(errorHeaders(body.statusCode, retryAfterS))) res.setHeader(name, value);
    res.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown, req: Request): ErrorBody {
    if (exception instanceof VigilError) return vigilErrorBody(exception);
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status < 500) {
        const response = exception.getResponse();
        const message =
          typeof response === 'string'
            ? response
            : typeof (response as { message?: unknown }).message === 'string'
              ? (response as { message: string }).message
              : exception.message;
        // A bare 400 reaches here only from body parsing (DTO and param errors are VigilErrors).
        const details = status === 400 ? [{ field: 'body', reason: message }] : undefined;
        return { statusCode: status, error: HTTP_CODES[status] ?? ErrorCode.VALIDATION, message, details };
      }
    }
    if (exception instanceof QueryFailedError) {
      const driver = (exception as QueryFailedError & { driverError?: { code?: string; detail?: string; constraint?: string } }).driverError;
      const code = driver?.code ? PG_CLIENT_ERRORS[driver.code] : undefined;
      if (code) {
        const message = driver?.constraint ? `violates ${driver.constraint}` : (driver?.detail ?? 'rejected by the database');
        return { statusCode: ERROR_STATUS[code], error: code, message };
      }
    }
    const errorId = randomUUID();
    this.logger.error({ err: exception, errorId, method: req.method, url: req.originalUrl }, 'unhandled error');
    return { statusCode: 500, error: ErrorCode.INTERNAL, message: 'internal error', errorId };
  }
}
