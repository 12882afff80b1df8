import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import { createPostgresBackend, setDefaultBackendFactory, type ConnectionOptions, type PostgresConnectionOptions } from 'bullmq';
import type { ControllerConfig } from '../config/config.js';
import { DEFAULT_JOB_OPTIONS, QUEUES } from './queues.js';

/** Schema BullMQ creates and migrates for itself on its PostgreSQL backend. */
export const BULLMQ_PG_SCHEMA = 'bullmq';

export type JobBackend = 'postgres' | 'redis';

export function jobBackendOf(config: ControllerConfig): JobBackend {
  return config.redisUrl ? 'redis' : 'postgres';
}

function redisConnection(redisUrl: string): ConnectionOptions {
  const u = new URL(redisUrl);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
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
      connection = redisConnection(config.redisUrl!);
    }
    const queues = Object.values(QUEUES).map((name) => BullModule.registerQueue({ name }));
    return {
      module: JobsModule,
      global: true,
      imports: [BullModule.forRoot({ connection, defaultJobOptions: DEFAULT_JOB_OPTIONS }), ...queues],
      exports: queues,
    };
  }
}
