import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AGENT_CONFIG, type AgentConfig } from './config.js';

/** The agent's own Prometheus metrics, served on `AGENT_HTTP_PORT` when set. */
@Injectable()
export class AgentMetrics {
  readonly registry = new Registry();

  readonly probes = new Counter({
    name: 'vigil_agent_probe_results_total',
    help: 'Node states reported, by probe status (ok, busy, down, auth)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly nodesWatched = new Gauge({ name: 'vigil_agent_nodes_watched', help: 'Nodes in the current assignment', registers: [this.registry] });

  readonly reportDuration = new Histogram({
    name: 'vigil_agent_report_duration_seconds',
    help: 'Round trip of an accepted report, by controller',
    labelNames: ['controller'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
    registers: [this.registry],
  });

  readonly reportBytes = new Histogram({
    name: 'vigil_agent_report_bytes',
    help: 'Size of accepted reports',
    buckets: [1e3, 1e4, 1e5, 3e5, 1e6, 3e6],
    registers: [this.registry],
  });

  readonly reportFailures = new Counter({
    name: 'vigil_agent_report_failures_total',
    help: 'Reports a controller did not accept, by controller and HTTP status (0 = unreachable)',
    labelNames: ['controller', 'status'] as const,
    registers: [this.registry],
  });

  readonly tickLag = new Histogram({
    name: 'vigil_agent_tick_lag_seconds',
    help: 'How late a probe tick started (event-loop stalls)',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });

  constructor(@Inject(AGENT_CONFIG) config: AgentConfig) {
    this.registry.setDefaultLabels({ agent: config.name, zone: config.zone });
    collectDefaultMetrics({ register: this.registry, prefix: 'vigil_agent_' });
  }
}
