import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { MetricsService } from '../observability/metrics.service.js';

const SCOPE = 'leader';

export interface LeaseView {
  holder: string;
  term: number;
  acquiredAt: Date;
  renewedAt: Date;
  expiresAt: Date;
}

/**
 * Elects the one controller replica that acts, through a lease row in PostgreSQL.
 *
 * Every `LEADER_RENEW_MS` each replica runs one conditional upsert: it takes or keeps the lease when it
 * already holds it or the lease has expired (database clock); a new holder gets a new `term`. The holder
 * believes itself leader only until its own monotonic deadline, the renewal's start plus the lease
 * minus a safety margin, so it stops acting before any other replica can take over, even if Postgres
 * is unreachable. A renewal that finds another holder ends leadership at once. A clean shutdown expires
 * the lease so a standby takes over within one renewal period.
 */
@Injectable()
export class LeadershipService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LeadershipService.name);
  /** Unique per process, so two replicas configured with one name cannot both hold the lease. */
  readonly identity: string;
  /** Emits `change` with `true` on becoming leader and `false` on stepping down. */
  readonly changes = new EventEmitter();
  private term = 0;
  private leaderUntil = 0;
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private renewing: Promise<void> | undefined;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditService,
    metrics: MetricsService,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
  ) {
    this.identity = `${config.controllerName}/${randomUUID().slice(0, 8)}`;
    const isLeader = () => this.isLeader();
    new Gauge({
      name: 'vigil_leader',
      help: 'This controller replica holds the leader lease (1) or stands by (0)',
      registers: [metrics.registry],
      collect() {
        this.set(isLeader() ? 1 : 0);
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.renew();
    this.timer = setInterval(() => void this.renew(), this.config.leaderRenewMs);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.deadlineTimer);
    await this.renewing;
    if (this.leading) {
      this.setLeading(false, 'shutting down');
      await this.db
        .query(`UPDATE controller_leases SET expires_at = now() WHERE scope = $1 AND holder = $2`, [SCOPE, this.identity])
        .catch((err: Error) => this.logger.warn({ err: err.message }, 'could not release the leader lease'));
    }
  }

  /** True while this replica holds the lease and its own deadline has not passed. */
  isLeader(): boolean {
    return this.leading && performance.now() < this.leaderUntil;
  }

  /** The term this replica leads in, or 0 when it does not lead. */
  get currentTerm(): number {
    return this.isLeader() ? this.term : 0;
  }

  async current(): Promise<LeaseView | undefined> {
    const rows = await this.db.query<{ holder: string; term: string; acquired_at: Date; renewed_at: Date; expires_at: Date }[]>(
      `SELECT holder, term::text AS term, acquired_at, renewed_at, expires_at FROM controller_leases WHERE scope = $1`,
      [SCOPE],
    );
    const r = rows[0];
    return r && { holder: r.holder, term: Number(r.term), acquiredAt: r.acquired_at, renewedAt: r.renewed_at, expiresAt: r.expires_at };
  }

  private renew(): Promise<void> {
    if (this.stopped || this.renewing) return this.renewing ?? Promise.resolve();
    this.renewing = this.tryRenew().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  private async tryRenew(): Promise<void> {
    const started = performance.now();
    const leaseS = this.config.leaderLeaseMs / 1000;
    try {
      const rows = await withTimeout(
        this.db.query<{ term: string }[]>(
          `INSERT INTO controller_leases AS l (scope, holder, term, acquired_at, renewed_at, expires_at)
           VALUES ($1, $2, 1, now(), now(), now() + make_interval(secs => $3))
           ON CONFLICT (scope) DO UPDATE SET
             holder = EXCLUDED.holder,
             term = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_at >= now() THEN l.term ELSE l.term + 1 END,
             acquired_at = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_at >= now() THEN l.acquired_at ELSE now() END,
             renewed_at = now(),
             expires_at = EXCLUDED.expires_at
           WHERE l.holder = EXCLUDED.holder OR l.expires_at < now()
           RETURNING term::text AS term`,
          [SCOPE, this.identity, leaseS],
        ),
        this.config.leaderRenewMs,
      );
      if (this.stopped) return;
      if (rows.length === 0) {
        if (this.leading) this.setLeading(false, 'another replica holds the lease');
        return;
      }
      const term = Number(rows[0]!.term);
      // Stop acting a fifth of the lease before it can expire in the database.
      this.leaderUntil = started + this.config.leaderLeaseMs * 0.8;
      clearTimeout(this.deadlineTimer);
      this.deadlineTimer = setTimeout(
        () => {
          if (this.leading && performance.now() >= this.leaderUntil) this.setLeading(false, 'lease not renewed in time');
        },
        this.leaderUntil - performance.now() + 1,
      );
      if (!this.leading || term !== this.term) {
        this.term = term;
        this.setLeading(true, 'lease acquired');
        await this.audit
          .record({ type: 'controller.leader_elected', actor: `controller:${this.config.controllerName}`, data: { holder: this.identity, term } })
          .catch((err: Error) => this.logger.warn({ err: err.message }, 'could not record the election'));
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, leading: this.leading }, 'lease renewal failed');
    }
  }

  private setLeading(leading: boolean, why: string): void {
    this.leading = leading;
    this.logger.log({ holder: this.identity, term: this.term, why }, leading ? 'leading' : 'standing by');
    this.changes.emit('change', leading);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]);
}
