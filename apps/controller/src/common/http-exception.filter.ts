import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
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
    const reply = ctx.getResponse<FastifyReply>();
    const req = ctx.getRequest<FastifyRequest>();
    const body = this.toBody(exception, req);
    if (reply.sent || reply.raw.headersSent) return;
    const retryAfterS = exception instanceof VigilError ? exception.retryAfterS : undefined;
    void reply.code(body.statusCode).headers(errorHeaders(body.statusCode, retryAfterS)).type('application/json; charset=utf-8').send(body);
  }

  private toBody(exception: unknown, req: FastifyRequest): ErrorBody {
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
        const framework = frameworkError(exception, req);
        if (framework) return framework;
        // A bare 400 reaches here only from reading the body (DTO and param errors are VigilErrors).
        const details = status === 400 ? [{ field: 'body', reason: message }] : undefined;
        return { statusCode: status, error: HTTP_CODES[status] ?? ErrorCode.VALIDATION, message, details };
      }
    }
    const plugin = pluginRefusal(exception);
    if (plugin) return plugin;
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

/**
 * Fastify's own refusals (Nest hands them over as an HttpException whose cause is the FastifyError),
 * in this API's words: the body too large or not as announced. (Bad URLs: `frameworkErrors` in app.ts.)
 */
function frameworkError(exception: HttpException, req: FastifyRequest): ErrorBody | undefined {
  const code = (exception.cause as { code?: unknown } | undefined)?.code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = req.routeOptions?.bodyLimit;
      const reason = limit ? `must not be larger than ${limit} bytes` : 'is too large';
      return { statusCode: 413, error: ErrorCode.PAYLOAD_TOO_LARGE, message: `request body ${reason}`, details: [{ field: 'body', reason }] };
    }
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return validation('body', 'does not match its Content-Length');
    default:
      return undefined;
  }
}

/**
 * Refusals of Fastify plugins that reach the filter as they were thrown (Nest wraps only FastifyErrors):
 * a request body `@fastify/compress` cannot decode. Any other 4xx such error keeps its status.
 */
function pluginRefusal(exception: unknown): ErrorBody | undefined {
  const { code, statusCode, message } = (exception ?? {}) as { code?: unknown; statusCode?: unknown; message?: unknown };
  if (typeof code !== 'string' || !code.startsWith('FST_') || typeof statusCode !== 'number' || statusCode < 400 || statusCode > 499) return undefined;
  if (code === 'FST_CP_ERR_INVALID_CONTENT_ENCODING') return validation('Content-Encoding', 'must be gzip, deflate, br or identity');
  if (code === 'FST_CP_ERR_INVALID_CONTENT') return validation('body', 'could not be decompressed with its Content-Encoding');
  const text = typeof message === 'string' ? message : 'refused';
  return { statusCode, error: HTTP_CODES[statusCode] ?? ErrorCode.VALIDATION, message: text };
}

function validation(field: string, reason: string): ErrorBody {
  return { statusCode: 400, error: ErrorCode.VALIDATION, message: `${field}: ${reason}`, details: [{ field, reason }] };
}
