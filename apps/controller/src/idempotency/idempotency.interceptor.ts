import { createHash } from 'node:crypto';
import { type CallHandler, type ExecutionContext, Injectable, Logger, type NestInterceptor, UseInterceptors, applyDecorators } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { catchError, concatMap, from, map, type Observable, of, switchMap, throwError } from 'rxjs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { VigilError } from '../common/errors.js';
import { IdempotencyKeyEntity } from './idempotency-key.entity.js';

const KEY = /^[A-Za-z0-9._:-]{1,128}$/;
/** Keys are remembered this long. */
const KEEP_HOURS = 24;

/**
 * `Idempotency-Key` for operator actions: the first request with a key (per token) acts and its answer
 * is stored; a retry with the same key and the same request gets that answer again
 * (`Idempotent-Replayed: true`) without acting twice. A key reused for a different request, or while
 * the first is still running, is a 409. A request that fails frees its key, so it can be retried.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly logger = new Logger(IdempotencyInterceptor.name);

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal | null }>();
    const res = context.switchToHttp().getResponse<FastifyReply>();
    const header = req.headers['idempotency-key'];
    const key = Array.isArray(header) ? header.join(', ') : header;
    if (key === undefined || !req.principal) return next.handle();
    if (!KEY.test(key))
      throw VigilError.validation([{ field: 'Idempotency-Key', reason: 'must be 1-128 letters, digits, dots, colons, dashes or underscores' }]);
    const tokenId = req.principal.tokenId;
    const path = req.originalUrl.split('?')[0]!;
    const requestHash = createHash('sha256')
      .update(JSON.stringify([req.method, req.originalUrl, req.body ?? null]))
      .digest('base64url');
    const repo = this.db.getRepository(IdempotencyKeyEntity);
    return from(this.claim(tokenId, key, req.method, path, requestHash)).pipe(
      switchMap((existing) => {
        if (existing) {
          if (existing.requestHash !== requestHash) throw VigilError.conflict('this Idempotency-Key was used for a different request', 'Idempotency-Key');
          if (existing.status === null) throw VigilError.conflict('a request with this Idempotency-Key is still running', 'Idempotency-Key');
          void res.code(existing.status).header('Idempotent-Replayed', 'true');
          return of(existing.response);
        }
        return next.handle().pipe(
          // Stored before the answer leaves: a client retrying the moment it has the answer gets it
          // replayed, not a 409 "still running". If storing fails the answer is sent all the same.
          concatMap((body: unknown) =>
            from(
              repo.update({ tokenId, key }, { status: res.statusCode, response: (body ?? null) as never }).catch(async (err: unknown) => {
                this.logger.warn({ err: (err as Error).message, key }, 'could not store the answer of an idempotent request');
                // Not left "still running" for a day: a retry will act again, as without a key.
                await repo.delete({ tokenId, key }).catch(() => undefined);
              }),
            ).pipe(map(() => body)),
          ),
          catchError((err: unknown) => from(repo.delete({ tokenId, key })).pipe(switchMap(() => throwError(() => err)))),
        );
      }),
    );
  }

  /** Inserts the key as in progress; returns the existing row instead when the key is already known. */
  private async claim(tokenId: string, key: string, method: string, path: string, requestHash: string): Promise<IdempotencyKeyEntity | undefined> {
    await this.db.query(`DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)`, [KEEP_HOURS]);
    const inserted = await this.db.query<unknown[]>(
      `INSERT INTO idempotency_keys (token_id, key, method, path, request_hash) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING key`,
      [tokenId, key, method, path, requestHash],
    );
    if (inserted.length > 0) return undefined;
    return (await this.db.getRepository(IdempotencyKeyEntity).findOneBy({ tokenId, key })) ?? undefined;
  }
}

/** Marks a route as honouring `Idempotency-Key` (and documents the header). */
export function Idempotent(): MethodDecorator {
  return applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: 'Retrying with the same key (same token, same request) replays the first answer instead of acting again',
    }),
  );
}
