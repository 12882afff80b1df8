import { EventEmitter } from 'node:events';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Gauge } from 'prom-client';
import { AuditService, type EventInput } from '../audit/audit.service.js';
import { PendingEvents } from '../audit/pending-events.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { MetricsService } from '../observability/metrics.service.js';
import { jobBackendOf, type JobBackend } from './queues.js';

/** How often the Redis backend is asked PING, and how long an answer may take. */
export const BACKEND_PROBE_MS = 1000;
/** Events kept while PostgreSQL does not take them. */
const MAX_PENDING_EVENTS = 100;

/**
 * Whether the job backend answers, as this replica sees it. The Redis backend (`REDIS_URL`) is asked
 * PING every second on a connection of its own (no offline queue: a refused or hung server is a fast
 * failure, never a wait); the PostgreSQL backend is the control plane's own database, so only a failed
 * enqueue marks it down, and while it is down the outbox drain's next successful move marks it up. Transitions are logged, recorded as
 * `jobs.backend_unavailable` / `jobs.backend_restored` (per replica: the actor names it) and exported as
 * `vigil_jobs_backend_up`; `restored` is emitted in-process for the outbox.
 */
@Injectable()
export class JobsBackendState implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(JobsBackendState.name);
  readonly backend: JobBackend;
  readonly changes = new EventEmitter();
  private upNow = true;
  private downSince: number | undefined;
  private lastError = '';
  private redis: Redis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private readonly pending: PendingEvents;
  private readonly actor: string;

  constructor(
    audit: AuditService,
    metrics: MetricsService,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
  ) {
    this.backend = jobBackendOf(config);
    this.actor = `controller:${config.controllerName}`;
    this.pending = new PendingEvents(audit, this.logger, 'job backend', MAX_PENDING_EVENTS);
    const upGauge: Gauge<'backend'> = new Gauge({
      name: 'vigil_jobs_backend_up',
      help: 'Whether the job backend (BullMQ on PostgreSQL, or on Redis with REDIS_URL) answers this replica: 1 up, 0 down (side effects are then kept in the job_outbox table)',
      labelNames: ['backend'] as const,
      registers: [metrics.registry],
      collect: () => {
        upGauge.set({ backend: this.backend }, this.upNow ? 1 : 0);
      },
    });
  }

  get up(): boolean {
    return this.upNow;
  }

  onApplicationBootstrap(): void {
    if (this.backend === 'redis') {
      this.redis = new Redis(this.config.redisUrl!, {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectTimeout: BACKEND_PROBE_MS,
        retryStrategy: () => BACKEND_PROBE_MS / 2,
        connectionName: 'vigil-jobs-probe',
      });
      this.redis.on('error', () => undefined);
      this.redis.connect().catch(() => undefined);
    }
    this.timer = setInterval(() => void this.tick(), BACKEND_PROBE_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.redis?.disconnect();
  }

  /** An enqueue or a probe failed (or did not answer in time). */
  markDown(reason: string): void {
    this.lastError = reason;
    if (!this.upNow) return;
    this.upNow = false;
    this.downSince = Date.now();
    this.logger.warn({ backend: this.backend, err: reason }, 'job backend unavailable: side effects are kept in PostgreSQL until it answers');
    this.queue({ type: 'jobs.backend_unavailable', actor: this.actor, data: { backend: this.backend, controller: this.config.controllerName, error: reason } });
  }

  /** An enqueue or a probe succeeded. */
  markUp(): void {
    if (this.upNow) return;
    const downMs = Date.now() - (this.downSince ?? Date.now());
    this.upNow = true;
    this.downSince = undefined;
    this.logger.log({ backend: this.backend, downMs }, 'job backend restored');
    this.queue({
      type: 'jobs.backend_restored',
      actor: this.actor,
      data: { backend: this.backend, controller: this.config.controllerName, downMs, lastError: this.lastError },
    });
    this.changes.emit('restored');
  }

  private async tick(): Promise<void> {
    if (this.pending.size > 0) void this.pending.flush();
    if (!this.redis || this.probing) return;
    this.probing = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.redis.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`PING not answered within ${BACKEND_PROBE_MS} ms`)), BACKEND_PROBE_MS);
        }),
      ]);
      this.markUp();
    } catch (err) {
      this.markDown((err as Error).message);
      // A hung server keeps the connection open: start a fresh one for the next probe.
      if (this.redis.status === 'ready') this.redis.disconnect(true);
    } finally {
      clearTimeout(timer);
      this.probing = false;
    }
  }

  private queue(event: EventInput): void {
    this.pending.add(event);
    void this.pending.flush();
  }
}
