import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import type { TokenRole } from '../../../../libs/contracts/src/index.js';
import { AuditService } from '../audit/audit.service.js';
import { EventFeed } from '../audit/event-feed.service.js';
import { ErrorCode, VigilError } from '../common/errors.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { ApiTokenEntity } from './api-token.entity.js';
import { clientKey, FailureLimiter } from './failure-limiter.js';
import { actorOf, type Principal } from './principal.js';
import { cacheKey, hashSecret, mintToken, parseToken, secretsEqual, verifySecret } from './token-secret.js';

/** Row name and lookup of the token seeded from VIGIL_ADMIN_TOKEN. */
export const BOOTSTRAP_TOKEN_NAME = 'bootstrap-admin';
const BOOTSTRAP_LOOKUP = 'bootstrap';

/** Verified tokens are remembered this long, so scrypt runs once per token per window, not per request. */
const CACHE_TTL_MS = 30_000;
const CACHE_MAX = 10_000;

interface CacheEntry {
  principal: Principal;
  expiresAt: number;
  tokenExpiresAt: number | null;
}

@Injectable()
export class AuthService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AuthService.name);
  /** `expiresAt`: of the cache entry; `tokenExpiresAt`: of the token itself (null: never). */
  private readonly cache = new Map<string, CacheEntry>();
  /** Verifications running now, by cache key. */
  private readonly verifying = new Map<string, Promise<Principal>>();

  constructor(
    @InjectRepository(ApiTokenEntity) private readonly tokens: Repository<ApiTokenEntity>,
    private readonly audit: AuditService,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly feed: EventFeed,
  ) {}

  private unsubscribe: (() => void) | undefined;
  /** Revocations seen: a verification that overlapped one is not cached (it may have read the row before it). */
  private revocations = 0;
  private limiter: FailureLimiter | undefined;

  private get failures(): FailureLimiter {
    return (this.limiter ??= new FailureLimiter(this.config.authFailureLimit, this.config.authFailureWindowMs));
  }

  /**
   * A revocation made through any replica reaches this one's cache through the event log's live feed
   * (NOTIFY, then the rows in order), instead of after the cache's 30 s.
   */
  onModuleInit(): void {
    this.unsubscribe = this.feed.subscribe((event) => {
      if (event.type !== 'token.revoked') return;
      this.revocations++;
      const tokenId = (event.data as { tokenId?: unknown }).tokenId;
      for (const [key, entry] of this.cache) if (entry.principal.tokenId === tokenId) this.cache.delete(key);
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /**
   * Resolves a bearer token to a principal, or throws 401. With the client's `address`, failed
   * attempts are counted: past `AUTH_FAILURE_LIMIT` in the window the address gets 429 instead of a
   * verification (a token already verified here still passes: refusing it would stop no guessing).
   */
  async authenticate(presented: string | undefined, address?: string): Promise<Principal> {
    const key = address === undefined ? undefined : clientKey(address);
    try {
      return await this.verify(presented, key);
    } catch (err) {
      // An expired token is a real one, not a guess: it does not count.
      if (key && presented && err instanceof VigilError && err.code === ErrorCode.UNAUTHENTICATED && err.message !== EXPIRED) this.failed(key);
      throw err;
    }
  }

  /** Throws 429 while the client's address is blocked (for checks made outside `authenticate`, such as the Sentinel password). */
  checkNotBlocked(address: string): void {
    const key = clientKey(address);
    const wait = this.failures.blockedFor(key, Date.now());
    if (wait > 0) throw rateLimited(key, wait);
  }

  private failed(address: string): void {
    const now = Date.now();
    if (!this.failures.fail(address, now)) return;
    const retryAfterS = Math.ceil(this.failures.blockedFor(address, now) / 1000);
    this.logger.warn({ address, retryAfterS }, 'too many failed authentications: address blocked');
    void this.audit
      .record({
        type: 'auth.rate_limited',
        actor: `controller:${this.config.controllerName}`,
        data: { address, failures: this.failures.limit + 1, windowMs: this.failures.windowMs, retryAfterS },
      })
      .catch(() => undefined);
  }

  /**
   * The principal of a token verified here within the cache's lifetime, or undefined (then `authenticate`
   * decides, and may need PostgreSQL). Lets a hot route answer without a promise.
   */
  cachedPrincipal(presented: string): Principal | undefined {
    const cached = this.cache.get(cacheKey(presented));
    if (cached === undefined) return undefined;
    const now = Date.now();
    if (cached.tokenExpiresAt !== null && cached.tokenExpiresAt <= now) return undefined;
    return cached.expiresAt > now ? cached.principal : undefined;
  }

  private async verify(presented: string | undefined, address: string | undefined): Promise<Principal> {
    if (!presented) throw new VigilError(ErrorCode.UNAUTHENTICATED, 'missing bearer token');
    const key = cacheKey(presented);
    const cached = this.cache.get(key);
    if (cached && cached.tokenExpiresAt !== null && cached.tokenExpiresAt <= Date.now()) throw expired();
    if (cached && cached.expiresAt > Date.now()) return cached.principal;
    const wait = address ? this.failures.blockedFor(address, Date.now()) : 0;
    if (wait > 0) throw rateLimited(address!, wait);
    // Requests that present the same token while it is being verified share that verification: when a
    // busy token's cache entry lapses, one query and one scrypt run, not one per request in flight.
    const pending = this.verifying.get(key);
    if (pending) return pending;
    const verification = this.verifyUncached(presented, key, cached);
    this.verifying.set(key, verification);
    try {
      return await verification;
    } finally {
      this.verifying.delete(key);
    }
  }

  private async verifyUncached(presented: string, key: string, cached: CacheEntry | undefined): Promise<Principal> {
    const revocationsBefore = this.revocations;
    const parsed = parseToken(presented);
    // Anything not minted here can only be the bootstrap token: compare it in memory first, so
    // garbage tokens cost neither a query nor a scrypt.
    if (!parsed && !(this.config.adminToken && secretsEqual(presented, this.config.adminToken))) {
      throw new VigilError(ErrorCode.UNAUTHENTICATED, 'invalid or revoked token');
    }
    let row: ApiTokenEntity | null;
    try {
      row = await this.tokens.findOneBy({ lookup: parsed ? parsed.lookup : BOOTSTRAP_LOOKUP, revokedAt: IsNull() });
    } catch (err) {
      // PostgreSQL unreachable: a token verified here before stays accepted (agents keep reporting, so
      // the failsafe can still vouch for masters); a revocation made meanwhile through another replica
      // takes effect here once PostgreSQL answers again.
      if (cached) return cached.principal;
      throw err;
    }
    const secret = parsed ? parsed.secret : presented;
    if (!row || !(await verifySecret(secret, row.secretHash))) {
      throw new VigilError(ErrorCode.UNAUTHENTICATED, 'invalid or revoked token');
    }
    const tokenExpiresAt = row.expiresAt?.getTime() ?? null;
    const principal: Principal = { tokenId: row.id, tokenName: row.name, role: row.role };
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    // A revocation that arrived while this ran may be of this token, read before it: answer, but do not remember.
    // An expired token is remembered too: it is then refused from memory, with no query and no scrypt (it
    // does not count as a failure, so each refusal would otherwise cost a hash without limit).
    if (this.revocations === revocationsBefore) this.cache.set(key, { principal, expiresAt: Date.now() + CACHE_TTL_MS, tokenExpiresAt });
    if (tokenExpiresAt !== null && tokenExpiresAt <= Date.now()) throw expired();
    // Best effort and cheap: at most once per cache window per token.
    void this.tokens.update({ id: row.id }, { lastUsedAt: new Date() }).catch(() => undefined);
    return principal;
  }

  /**
   * Creates or refreshes the bootstrap admin from VIGIL_ADMIN_TOKEN, and revokes it when the
   * variable is gone: removing the variable must not leave the old token working.
   */
  async seedAdminToken(): Promise<void> {
    const token = this.config.adminToken;
    const existing = await this.tokens.findOneBy({ lookup: BOOTSTRAP_LOOKUP });
    if (!token) {
      if (existing && existing.revokedAt === null) {
        await this.tokens.manager.transaction(async (em) => {
          await em.update(ApiTokenEntity, { id: existing.id }, { revokedAt: new Date() });
          await this.audit.record(
            {
              type: 'token.revoked',
              actor: `controller:${this.config.controllerName}`,
              data: { tokenId: existing.id, name: existing.name, reason: 'VIGIL_ADMIN_TOKEN is not set' },
            },
            em,
          );
        });
        this.logger.warn('VIGIL_ADMIN_TOKEN is not set: the bootstrap admin token is revoked');
      }
      return;
    }
    if (existing && existing.revokedAt === null && (await verifySecret(token, existing.secretHash))) return;
    const secretHash = await hashSecret(token);
    await this.tokens.manager.transaction(async (em) => {
      if (existing) {
        await em.update(ApiTokenEntity, { id: existing.id }, { secretHash, revokedAt: null, role: 'admin' });
      } else {
        await em.insert(ApiTokenEntity, {
          name: BOOTSTRAP_TOKEN_NAME,
          role: 'admin',
          lookup: BOOTSTRAP_LOOKUP,
          secretHash,
          createdBy: 'env:VIGIL_ADMIN_TOKEN',
        });
      }
      await this.audit.record({ type: 'token.seeded', actor: `controller:${this.config.controllerName}`, data: { name: BOOTSTRAP_TOKEN_NAME } }, em);
    });
    this.logger.log('bootstrap admin token seeded from VIGIL_ADMIN_TOKEN');
  }

  async create(name: string, role: TokenRole, by: Principal, expiresAt: Date | null = null): Promise<{ row: ApiTokenEntity; token: string }> {
    const minted = mintToken();
    const secretHash = await hashSecret(minted.secret);
    const row = await this.tokens.manager.transaction(async (em) => {
      if (await em.existsBy(ApiTokenEntity, { name })) throw VigilError.conflict(`a token named ${name} already exists`, 'name');
      const saved = await em.save(
        em.create(ApiTokenEntity, { name, role, lookup: minted.lookup, secretHash, createdBy: actorOf(by), lastUsedAt: null, revokedAt: null, expiresAt }),
      );
      await this.audit.record(
        { type: 'token.created', actor: actorOf(by), data: { tokenId: saved.id, name, role, expiresAt: expiresAt?.toISOString() ?? null } },
        em,
      );
      return saved;
    });
    return { row, token: minted.token };
  }

  list(): Promise<ApiTokenEntity[]> {
    return this.tokens.find({ order: { createdAt: 'ASC' } });
  }

  async revoke(id: string, by: Principal): Promise<ApiTokenEntity> {
    const row = await this.tokens.manager.transaction(async (em) => {
      const found = await em.findOneBy(ApiTokenEntity, { id });
      if (!found) throw VigilError.notFound(`token ${id}`);
      if (found.revokedAt === null) {
        found.revokedAt = new Date();
        await em.save(found);
        await this.audit.record({ type: 'token.revoked', actor: actorOf(by), data: { tokenId: id, name: found.name } }, em);
      }
      return found;
    });
    // Forget every cached verification: the revoked token must stop working here at once.
    this.cache.clear();
    return row;
  }
}

const EXPIRED = 'token expired';

function expired(): VigilError {
  return new VigilError(ErrorCode.UNAUTHENTICATED, EXPIRED);
}

function rateLimited(address: string, waitMs: number): VigilError {
  const retryAfterS = Math.ceil(waitMs / 1000);
  return new VigilError(ErrorCode.RATE_LIMITED, `too many failed authentications from ${address}: try again in ${retryAfterS} s`, undefined, retryAfterS);
}
