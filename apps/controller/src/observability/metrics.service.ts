import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { DataSource } from 'typeorm';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';

/** How long a gauge that counts rows waits for PostgreSQL before the scrape goes on without it. */
const QUERY_TIMEOUT_MS = 1000;

/**
 * Runs a gauge's query; when PostgreSQL does not answer (in time), the gauge keeps its last values and
 * the scrape still succeeds, so the other metrics (`vigil_failsafe` first) stay visible in an outage.
 */
async function counted<T>(query: () => Promise<T>, apply: (rows: T) => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const rows = await Promise.race([
      query(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), QUERY_TIMEOUT_MS);
      }),
    ]);
    apply(rows);
  } catch {
    // Last values stand.
  } finally {
    clearTimeout(timer);
  }
}

/** One Prometheus registry per controller instance (not the global one: tests run several apps). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'vigil_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'vigil_http_request_duration_seconds',
    help: 'HTTP request duration by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /** Exact quantiles for the hottest route (a histogram's buckets are too coarse to tell 2 ms from 4 ms). */
  readonly reportRequests = new Summary({
    name: 'vigil_agent_report_request_seconds',
    help: 'Server-side time of one agent report request, body parsing included; quantiles over the last minute',
    percentiles: [0.5, 0.9, 0.99],
    maxAgeSeconds: 60,
    ageBuckets: 6,
    registers: [this.registry],
  });

  constructor(@InjectDataSource() db: DataSource, @Inject(CONTROLLER_CONFIG) config: ControllerConfig) {
    this.registry.setDefaultLabels({ controller: config.controllerName });
    collectDefaultMetrics({ register: this.registry, prefix: 'vigil_' });
    new Gauge({
      name: 'vigil_agents',
      help: 'Registered probe agents by state (stale = no heartbeat within AGENT_STALE_AFTER_MS)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        await counted(
          () =>
            db.query<{ active: string; stale: string }[]>(
              `SELECT count(*) FILTER (WHERE last_seen_at >= now() - make_interval(secs => $1::double precision / 1000)) AS active,
                      count(*) FILTER (WHERE last_seen_at <  now() - make_interval(secs => $1::double precision / 1000)) AS stale
                 FROM agents`,
              [config.agentStaleAfterMs],
            ),
          ([row]) => {
            this.set({ state: 'active' }, Number(row?.active ?? 0));
            this.set({ state: 'stale' }, Number(row?.stale ?? 0));
          },
        );
      },
    });
    new Gauge({
      name: 'vigil_clusters',
      help: 'Clusters under management',
      registers: [this.registry],
      async collect() {
        await counted(
          () => db.query<{ n: string }[]>('SELECT count(*) AS n FROM clusters'),
          ([row]) => this.set(Number(row?.n ?? 0)),
        );
      },
    });
    new Gauge({
      name: 'vigil_nodes',
      help: 'Nodes under management by recorded role',
      labelNames: ['role'] as const,
      registers: [this.registry],
      async collect() {
        await counted(
          () => db.query<{ role: string; n: string }[]>('SELECT role, count(*) AS n FROM nodes GROUP BY role'),
          (rows) => {
            this.reset();
            for (const row of rows) this.set({ role: row.role }, Number(row.n));
          },
        );
      },
    });
  }
}
