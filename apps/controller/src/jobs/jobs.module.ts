import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { createPostgresBackend, setDefaultBackendFactory, type ConnectionOptions, type PostgresConnectionOptions } from 'bullmq';
import { AuditModule } from '../audit/audit.module.js';
import type { ControllerConfig } from '../config/config.js';
import { ObservabilityModule } from '../observability/observability.module.js';
import { JobsBackendState } from './jobs-backend.js';
import { JOBS_CLOSING, JobsService } from './jobs.service.js';
import { DEFAULT_JOB_OPTIONS, jobBackendOf, QUEUES } from './queues.js';

export { jobBackendOf, type JobBackend } from './queues.js';

/** Schema BullMQ creates and migrates for itself on its PostgreSQL backend. */
export const BULLMQ_PG_SCHEMA = 'bullmq';

/** Reconnect attempts to the Redis backend at most this far apart (BullMQ's default grows to 20 s, delaying the catch-up). */
const RECONNECT_MAX_MS = 1000;

function redisConnection(redisUrl: string, closing: { now: boolean }): ConnectionOptions {
  const u = new URL(redisUrl);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
    // Once the controller shuts down, stop reconnecting: ioredis then fails the commands it holds, so
    // closing the queues and workers does not wait for a Redis that is away.
    retryStrategy: (times: number) => (closing.now ? null : Math.min(100 * times, RECONNECT_MAX_MS)),
  };
}

/**
 * BullMQ on PostgreSQL by default (the control plane then needs nothing but Postgres), on Redis when
 * REDIS_URL is set. @nestjs/bullmq constructs queues and workers without a backend argument, so the
 * backend is chosen process-wide here, before any queue exists.
 */
@Module({})
export class JobsModule {
  static forRoot(config: ControllerConfig): DynamicModule {
    const backend = jobBackendOf(config);
    const closing = { now: false };
    let connection: ConnectionOptions;
    if (backend === 'postgres') {
      setDefaultBackendFactory(createPostgresBackend);
      const pg: PostgresConnectionOptions = {
        connectionString: config.databaseUrl,
        schema: BULLMQ_PG_SCHEMA,
        migrate: true,
        max: 4,
        application_name: 'vigil-jobs',
      };
      connection = pg as unknown as ConnectionOptions;
    } else {
      setDefaultBackendFactory();
      connection = redisConnection(config.redisUrl!, closing);
    }
    const queues = Object.values(QUEUES).map((name) => BullModule.registerQueue({ name }));
    return {
      module: JobsModule,
      global: true,
      imports: [BullModule.forRoot({ connection, defaultJobOptions: DEFAULT_JOB_OPTIONS }), ...queues, AuditModule, ObservabilityModule, DiscoveryModule],
      providers: [JobsBackendState, JobsService, { provide: JOBS_CLOSING, useValue: closing }],
      exports: [...queues, JobsBackendState, JobsService],
    };
  }
}
