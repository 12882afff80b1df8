import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply } from 'fastify';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { Public } from '../auth/principal.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { MetricsService } from './metrics.service.js';
import { ShutdownDrain } from './shutdown-drain.service.js';

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS).unref()),
  ]);
}

/** Liveness, readiness and Prometheus metrics: open routes, outside /api/v1. */
@ApiExcludeController()
@Controller()
@Public()
export class HealthController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly metrics: MetricsService,
    private readonly drain: ShutdownDrain,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
  ) {}

  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    if (this.drain.draining) {
      void reply.code(503).send({ status: 'draining', controller: this.config.controllerName, checks: {} });
      return;
    }
    const checks: Record<string, { status: 'up' | 'down'; error?: string }> = {};
    try {
      await withTimeout(this.db.query('SELECT 1'), 'postgres');
      checks['postgres'] = { status: 'up' };
    } catch (err) {
      checks['postgres'] = { status: 'down', error: (err as Error).message };
    }
    if (this.config.redisUrl) {
      const redis = new Redis(this.config.redisUrl, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        connectTimeout: CHECK_TIMEOUT_MS,
        retryStrategy: () => null,
      });
      redis.on('error', () => undefined);
      try {
        await withTimeout(
          redis.connect().then(() => redis.ping()),
          'redis',
        );
        checks['redis'] = { status: 'up' };
      } catch (err) {
        checks['redis'] = { status: 'down', error: (err as Error).message };
      } finally {
        redis.disconnect();
      }
    }
    // Ready on PostgreSQL alone: the Redis of REDIS_URL carries only retryable side effects (kept in
    // PostgreSQL while it is away), so without it this replica still detects, fails over and publishes —
    // taking it out of rotation would hide the master from clients exactly when it moves. Its state is
    // shown here and in `vigil_jobs_backend_up`.
    const up = checks['postgres']?.status === 'up';
    void reply.code(up ? 200 : 503).send({ status: up ? 'ok' : 'unavailable', controller: this.config.controllerName, checks });
  }

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    const text = await this.metrics.registry.metrics();
    void reply.type(this.metrics.registry.contentType).send(text);
  }
}
