import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { VIGIL_VERSION, type AgentAssignment, type AgentReport, type NodeObservation, type OptionalReportField } from '../../../libs/contracts/src/index.js';
import { fieldsAfter, reportBodies } from './report-negotiation.js';
import { AGENT_CONFIG, type AgentConfig } from './config.js';
import { ControllerCallError, ControllerClient } from './controller-client.js';
import { backoffMs } from './heartbeat.service.js';
import { AgentMetrics } from './agent-metrics.js';
import { NodeProbe, type ProbeTarget } from './node-probe.js';

/** Ticks over which the reported lag is the maximum (about 2 s at the default interval). */
const LAG_WINDOW_TICKS = 8;
const REPORT_RETRY_MIN_MS = 250;

/**
 * How long to wait before the next report to a controller after `failures` failed ones: the heartbeats'
 * jittered exponential backoff, but never longer than one probe interval (nor under 250 ms). A report is
 * one small request per tick, never queued and never two in flight, so this costs little, while the
 * heartbeats' 10 s cap kept a healed controller without this agent's views for up to 10 s after a
 * partition (the chaos suite's isolate-master-zone: the old master was demoted that much later).
 */
/**
 * A report still unanswered after two probe intervals (at least 1 s, at most `CONTROLLER_TIMEOUT_MS`) is
 * abandoned: the next tick has a newer one, and while one is in flight no other is sent on that link, so a
 * report stuck on a silent path kept the agent's views from a healed controller for the whole timeout.
 */
export function reportTimeoutMs(intervalMs: number, requestTimeoutMs: number): number {
  return Math.min(requestTimeoutMs, Math.max(1000, 2 * intervalMs));
}

export function reportRetryMs(failures: number, intervalMs: number, random = Math.random): number {
  return Math.min(Math.max(REPORT_RETRY_MIN_MS, intervalMs), backoffMs(failures, random));
}

/** One controller as the report loop sees it: a report in flight is never doubled up. */
interface ControllerLink {
  client: ControllerClient;
  inFlight: boolean;
  failures: number;
  retryAt: number;
  lastAcceptedAt: number;
  /**
   * The optional report fields this controller listed in its last answer. Empty until it answers, and again
   * after a 400 (it may have been replaced by an older release): such a controller gets the baseline report.
   */
  fields: ReadonlySet<OptionalReportField>;
}

function targetKey(t: ProbeTarget): string {
  return JSON.stringify([t.host, t.port, t.username, t.password, t.tls, t.downAfterMs]);
}

/** Flattens an assignment into one probe target per node, at the address this agent reaches it by. */
export function targetsOf(assignment: AgentAssignment, addressMap: AgentConfig['addressMap'] = new Map()): ProbeTarget[] {
  return assignment.clusters.flatMap((c) =>
    c.nodes.map((n) => ({
      id: n.id,
      ...(addressMap.get(`${n.host.toLowerCase()}:${n.port}`) ?? { host: n.host, port: n.port }),
      username: c.redis.username,
      password: c.redis.password,
      tls: c.redis.tls,
      downAfterMs: c.downAfterMs,
    })),
  );
}

/**
 * The probe loop: every `PROBE_INTERVAL_MS` it starts a PING on every assigned node and sends one
 * report with the latest state of all of them to every controller. Only the latest state is kept
 * (a controller that was away gets the current picture, not a backlog). Nothing here throws out.
 */
@Injectable()
export class ProbeService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ProbeService.name);
  private readonly links: ControllerLink[];
  private readonly probes = new Map<string, { key: string; probe: NodeProbe }>();
  private assignment: AgentAssignment | undefined;
  private refreshing: Promise<void> | undefined;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private nextTickAt = 0;
  private stopped = false;
  /** How late the last ticks ran: a stalled agent measures replies late and must say so (the controller then ignores its votes). */
  private readonly recentLag: number[] = [];

  constructor(
    @Inject(AGENT_CONFIG) private readonly config: AgentConfig,
    private readonly metrics: AgentMetrics,
  ) {
    this.links = config.controllerUrls.map((url) => ({
      client: new ControllerClient(url, config.token, config.requestTimeoutMs),
      inFlight: false,
      failures: 0,
      retryAt: 0,
      lastAcceptedAt: 0,
      fields: new Set(),
    }));
  }

  onApplicationBootstrap(): void {
    void this.refreshAssignment();
    this.nextTickAt = Date.now();
    this.schedule();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const { probe } of this.probes.values()) probe.close();
    this.probes.clear();
  }

  /** Ready when it has an assignment and a controller took a report recently. */
  isReady(now = Date.now()): boolean {
    return this.assignment !== undefined && this.links.some((l) => now - l.lastAcceptedAt <= 3 * this.config.probeIntervalMs + this.config.requestTimeoutMs);
  }

  get watchedNodes(): number {
    return this.probes.size;
  }

  /** Fixed-rate ticks that skip missed beats instead of bunching up after a stall. */
  private schedule(): void {
    if (this.stopped) return;
    const now = Date.now();
    this.nextTickAt += this.config.probeIntervalMs;
    if (this.nextTickAt <= now) this.nextTickAt = now + this.config.probeIntervalMs;
    const due = this.nextTickAt;
    this.timer = setTimeout(() => {
      const late = Math.max(0, Date.now() - due);
      this.metrics.tickLag.observe(late / 1000);
      this.recentLag.push(late);
      if (this.recentLag.length > LAG_WINDOW_TICKS) this.recentLag.shift();
      try {
        this.tick();
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'probe tick failed');
      }
      this.schedule();
    }, due - now);
  }

  private tick(): void {
    const now = Date.now();
    if (!this.assignment) return;
    const nodes: NodeObservation[] = [];
    for (const { probe } of this.probes.values()) {
      const obs = probe.observe(now);
      if (obs) {
        this.metrics.probes.inc({ status: obs.st });
        nodes.push(obs);
      }
      probe.tick(now);
    }
    const report: AgentReport = {
      seq: ++this.seq,
      assignment: this.assignment.version,
      intervalMs: this.config.probeIntervalMs,
      lagMs: Math.max(0, ...this.recentLag),
      nodes,
    };
    const ready = this.links.filter((link) => !link.inFlight && now >= link.retryAt);
    const bodies = reportBodies(report, ready);
    ready.forEach((link, i) => void this.send(link, bodies[i]!));
  }

  private async send(link: ControllerLink, json: string): Promise<void> {
    link.inFlight = true;
    const stop = this.metrics.reportDuration.startTimer({ controller: link.client.baseUrl });
    try {
      const accepted = await link.client.report(this.config.name, json, reportTimeoutMs(this.config.probeIntervalMs, this.config.requestTimeoutMs));
      stop();
      this.metrics.reportBytes.observe(json.length);
      link.lastAcceptedAt = Date.now();
      this.setFields(link, fieldsAfter(link.fields, { accepted }));
      if (link.failures > 0) this.logger.log({ controller: link.client.baseUrl, failures: link.failures }, 'reports accepted again');
      link.failures = 0;
      if (accepted.assignment !== this.assignment?.version) void this.refreshAssignment(link);
    } catch (err) {
      link.failures++;
      const status = err instanceof ControllerCallError ? err.status : 0;
      this.metrics.reportFailures.inc({ controller: link.client.baseUrl, status: String(status) });
      this.setFields(link, fieldsAfter(link.fields, { refusedStatus: status }));
      // Unreachable or overloaded: back off. A refusal of the content: refetch what to watch, retry next tick.
      if (status === 0 || status >= 500 || status === 429) link.retryAt = Date.now() + reportRetryMs(link.failures, this.config.probeIntervalMs);
      if (status === 404) await this.register(link);
      if (status === 400 || status === 409) void this.refreshAssignment(link);
      const level = err instanceof ControllerCallError && err.isConfigFault ? 'error' : link.failures === 1 ? 'warn' : 'debug';
      this.logger[level]({ controller: link.client.baseUrl, status, failures: link.failures, err: (err as Error).message }, 'report not accepted');
    } finally {
      link.inFlight = false;
    }
  }

  private setFields(link: ControllerLink, fields: ReadonlySet<OptionalReportField>): void {
    if (fields === link.fields) return;
    link.fields = fields;
    this.logger.log({ controller: link.client.baseUrl, reportFields: [...fields] }, 'optional report fields this controller accepts');
  }

  private async register(link: ControllerLink): Promise<void> {
    try {
      await link.client.register({ name: this.config.name, zone: this.config.zone, version: VIGIL_VERSION });
    } catch (err) {
      this.logger.warn({ controller: link.client.baseUrl, err: (err as Error).message }, 'registration failed');
    }
  }

  /** Fetches the assignment (from `preferred`, else any controller that answers); one fetch at a time. */
  private refreshAssignment(preferred?: ControllerLink): Promise<void> {
    this.refreshing ??= this.fetchAssignment(preferred).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async fetchAssignment(preferred?: ControllerLink): Promise<void> {
    const order = preferred ? [preferred, ...this.links.filter((l) => l !== preferred)] : this.links;
    for (let attempt = 0; !this.stopped; attempt++) {
      for (const link of order) {
        try {
          const next = await link.client.assignment(this.config.name, this.assignment?.version);
          if (next) this.apply(next);
          return;
        } catch (err) {
          const status = err instanceof ControllerCallError ? err.status : 0;
          if (status === 404) await this.register(link);
          this.logger[attempt === 0 ? 'warn' : 'debug']({ controller: link.client.baseUrl, status, err: (err as Error).message }, 'assignment fetch failed');
        }
      }
      await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt + 1)));
    }
  }

  /** Opens probes for new nodes, closes them for removed ones, reopens those whose address or credentials changed. */
  private apply(assignment: AgentAssignment): void {
    const wanted = new Map(targetsOf(assignment, this.config.addressMap).map((t) => [t.id, t]));
    let opened = 0;
    let closed = 0;
    for (const [id, entry] of this.probes) {
      const target = wanted.get(id);
      if (!target || targetKey(target) !== entry.key) {
        entry.probe.close();
        this.probes.delete(id);
        closed++;
      }
    }
    for (const [id, target] of wanted) {
      if (this.probes.has(id)) continue;
      const probe = new NodeProbe(
        target,
        { intervalMs: this.config.probeIntervalMs, infoEveryMs: 1000, replRepeatMs: 5000 },
        `vigil-probe-${this.config.name}`,
      );
      this.probes.set(id, { key: targetKey(target), probe });
      opened++;
    }
    this.assignment = assignment;
    this.metrics.nodesWatched.set(this.probes.size);
    this.logger.log({ version: assignment.version, clusters: assignment.clusters.length, nodes: this.probes.size, opened, closed }, 'assignment applied');
  }
}
