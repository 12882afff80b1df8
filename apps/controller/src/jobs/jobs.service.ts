import { InjectQueue, WorkerHost } from '@nestjs/bullmq';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import type { JobsOptions, Queue } from 'bullmq';
import { Counter, Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { MetricsService } from '../observability/metrics.service.js';
import { JobsBackendState } from './jobs-backend.js';
import { QUEUES } from './queues.js';

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** The longest an enqueue may wait for the backend before the job goes to the outbox instead. */
export const ENQUEUE_TIMEOUT_MS = 1000;
/** The outbox is looked at this often (and at once when the backend is restored). */
const DRAIN_EVERY_MS = 1000;
/** Rows moved per pass. */
const DRAIN_BATCH = 200;

/** `{ now }`: set when the controller shuts down, read by the Redis connections' retry strategy (stop reconnecting). */
export const JOBS_CLOSING = Symbol('JOBS_CLOSING');
/** The longest the shutdown waits for each queue and worker when the backend is away. */
const CLOSE_TIMEOUT_MS = 2000;

/** The backend did not take the jobs (refused, or no answer within the bound). */
export class JobsUnavailableError extends Error {}

function bounded<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new JobsUnavailableError(`${what} not answered within ${ENQUEUE_TIMEOUT_MS} ms`)), ENQUEUE_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The one way side effects are queued. An enqueue never blocks nor fails its caller: it waits at most
 * ENQUEUE_TIMEOUT_MS (none when the backend is known down), and a job the backend did not take is
 * written to `job_outbox` in PostgreSQL, from which any replica moves it to its queue once the backend
 * answers (rows locked with SKIP LOCKED; job ids and deduplication make a replay add nothing twice).
 * So a Redis outage, or a controller restart during one, loses no side effect.
 */
@Injectable()
export class JobsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobsService.name);
  private readonly queues: Record<QueueName, Queue>;
  private readonly deferred: Counter<'queue'>;
  private readonly replayed: Counter<'queue'>;
  private outboxRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private stopped = false;
  private readonly by: string;

  constructor(
    @InjectQueue(QUEUES.topology) topology: Queue,
    @InjectQueue(QUEUES.failover) failover: Queue,
    @InjectQueue(QUEUES.dns) dns: Queue,
    @InjectQueue(QUEUES.webhooks) webhooks: Queue,
    @InjectDataSource() private readonly db: DataSource,
    readonly backend: JobsBackendState,
    private readonly discovery: DiscoveryService,
    metrics: MetricsService,
    @Inject(CONTROLLER_CONFIG) config: ControllerConfig,
    @Inject(JOBS_CLOSING) private readonly closing: { now: boolean },
  ) {
    this.queues = { [QUEUES.topology]: topology, [QUEUES.failover]: failover, [QUEUES.dns]: dns, [QUEUES.webhooks]: webhooks };
    this.by = config.controllerName;
    const registers = [metrics.registry];
    this.deferred = new Counter({
      name: 'vigil_jobs_deferred_total',
      help: 'Side effects the job backend did not take at once, by queue: kept in the job_outbox table (or, for webhooks, behind the dispatcher cursor) until it answers',
      labelNames: ['queue'] as const,
      registers,
    });
    this.replayed = new Counter({
      name: 'vigil_jobs_outbox_replayed_total',
      help: 'Deferred side effects moved from the job_outbox table to their queue, by queue',
      labelNames: ['queue'] as const,
      registers,
    });
    const pending: Gauge = new Gauge({
      name: 'vigil_jobs_outbox_pending',
      help: 'Side effects waiting in the job_outbox table for the job backend (as last counted by this replica)',
      registers,
      collect: () => {
        pending.set(this.outboxRows);
      },
    });
  }

  onApplicationBootstrap(): void {
    // A lost connection is the backend state's business (logged once per transition): without a listener
    // BullMQ prints every reconnection error to the console.
    const quiet = (err: Error) => this.logger.debug({ err: err.message }, 'job backend connection error');
    for (const q of Object.values(this.queues)) q.on('error', quiet);
    for (const p of this.discovery.getProviders()) if (p.instance instanceof WorkerHost) p.instance.worker.on('error', quiet);
    this.backend.changes.on('restored', () => void this.drain());
    this.timer = setInterval(() => void this.drain(), DRAIN_EVERY_MS);
    this.timer.unref();
    void this.drain();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.closing.now = true;
    clearInterval(this.timer);
    await this.draining;
    if (this.backend.up) return;
    // A graceful close waits for commands the backend will not answer (a worker's fetch, a QUIT to a hung
    // server): with the backend away, drop the connections instead. Nothing is lost — a job taken is
    // retried as stalled, one not yet queued is in the outbox.
    const workers = this.discovery.getProviders().flatMap((p) => (p.instance instanceof WorkerHost ? [p.instance.worker] : []));
    const drop = (p: Promise<unknown>) => Promise.race([p.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref())]);
    await Promise.all([...Object.values(this.queues).map((q) => drop(q.disconnect())), ...workers.map((w) => drop(w.close(true)))]);
  }

  /**
   * Queues one job, or keeps it in the outbox: answers how. Never throws for the backend's sake; throws
   * only when neither the backend nor PostgreSQL took the job (then the caller's own retry applies).
   */
  async add(queue: QueueName, name: string, data: object, opts: JobsOptions): Promise<'queued' | 'deferred'> {
    if (this.backend.up) {
      try {
        await bounded(this.queues[queue].add(name, data, opts), `${queue} add`);
        this.backend.markUp();
        return 'queued';
      } catch (err) {
        this.backend.markDown((err as Error).message);
        return this.defer(queue, name, data, opts, (err as Error).message);
      }
    }
    return this.defer(queue, name, data, opts, 'job backend unavailable');
  }

  /**
   * Queues jobs all at once or throws JobsUnavailableError (within the bound): for a caller that keeps
   * its own place and tries again (the webhook dispatcher's cursor).
   */
  async addBulk(queue: QueueName, jobs: { name: string; data: object; opts: JobsOptions }[]): Promise<void> {
    if (!this.backend.up) {
      this.deferred.inc({ queue }, jobs.length);
      throw new JobsUnavailableError('job backend unavailable');
    }
    try {
      await bounded(this.queues[queue].addBulk(jobs), `${queue} addBulk`);
      this.backend.markUp();
    } catch (err) {
      this.backend.markDown((err as Error).message);
      this.deferred.inc({ queue }, jobs.length);
      throw err instanceof JobsUnavailableError ? err : new JobsUnavailableError((err as Error).message);
    }
  }

  private async defer(queue: QueueName, name: string, data: object, opts: JobsOptions, reason: string): Promise<'deferred'> {
    await this.db.query(`INSERT INTO job_outbox (queue, name, data, opts, deferred_by, reason) VALUES ($1, $2, $3, $4, $5, $6)`, [
      queue,
      name,
      JSON.stringify(data),
      JSON.stringify(opts),
      this.by,
      reason,
    ]);
    this.deferred.inc({ queue });
    this.outboxRows++;
    this.logger.warn({ queue, job: name, reason }, 'job deferred to the outbox');
    return 'deferred';
  }

  /** Moves outbox rows to their queues, oldest first, one row per transaction; stops at the first the backend does not take. */
  drain(): Promise<void> {
    // The PostgreSQL backend has no probe of its own (it is the control plane's database): while it is
    // marked down, moving the oldest outbox row is the probe, and its success marks it up again.
    const probing = !this.backend.up && this.backend.backend === 'postgres';
    if (this.draining || this.stopped || (!this.backend.up && !probing)) return this.draining ?? Promise.resolve();
    this.draining = (async () => {
      let moved = 0;
      try {
        for (let i = 0; i < DRAIN_BATCH && !this.stopped && (this.backend.up || (probing && i === 0)); i++) {
          const one = await this.db.transaction(async (em) => {
            const [row] = await em.query<{ id: string; queue: QueueName; name: string; data: object; opts: JobsOptions }[]>(
              `SELECT id::text AS id, queue, name, data, opts FROM job_outbox ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`,
            );
            if (!row) return false;
            const q = this.queues[row.queue];
            if (q) await bounded(q.add(row.name, row.data, row.opts), `${row.queue} add`);
            else this.logger.error({ queue: row.queue, job: row.name }, 'outbox row for an unknown queue dropped');
            await em.query(`DELETE FROM job_outbox WHERE id = $1`, [row.id]);
            this.replayed.inc({ queue: row.queue });
            return true;
          });
          if (!one) break;
          moved++;
          if (probing) this.backend.markUp();
        }
        if (this.outboxRows > 0 || moved > 0) {
          const [count] = await this.db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM job_outbox`);
          this.outboxRows = count?.n ?? this.outboxRows;
        }
      } catch (err) {
        if (err instanceof JobsUnavailableError) this.backend.markDown(err.message);
        else this.logger.warn({ err: (err as Error).message }, 'outbox drain failed; retried on the next pass');
      }
    })().finally(() => (this.draining = undefined));
    return this.draining;
  }
}
