import { Redis } from 'ioredis';
import { parseReplicationInfo, type ReplicationInfo } from '../../../libs/redis-admin/src/index.js';
import type { NodeObservation, ProbeStatus, ReplicationObservation } from '../../../libs/contracts/src/index.js';

/** Everything a probe needs to reach one node; a change to any field means a new connection. */
export interface ProbeTarget {
  id: string;
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls: boolean;
  downAfterMs: number;
}

export interface ProbeTimings {
  intervalMs: number;
  /** INFO replication is read this often, and at once after (re)connecting or recovering. */
  infoEveryMs: number;
  /** Replication facts are repeated in reports at least this often even when unchanged. */
  replRepeatMs: number;
}

/** How a reply or an error counts. `-LOADING` and `-MASTERDOWN` are valid replies, as for Sentinel. */
export function classifyProbeError(err: unknown): { st: Exclude<ProbeStatus, 'ok'>; err: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (/^(LOADING|MASTERDOWN)\b/.test(message)) return { st: 'busy', err: message.slice(0, 120) };
  if (/^(NOAUTH|WRONGPASS|NOPERM)\b|invalid password|invalid username-password/i.test(message)) return { st: 'auth', err: message.slice(0, 120) };
  return { st: 'down', err: message.slice(0, 120) };
}

/** How long a connection may sit in its handshake before it is started over (see `NodeProbe.tick`). */
export function handshakeLimitMs(downAfterMs: number): number {
  return Math.max(downAfterMs, 5000);
}

/** Command and connect timeout: a quarter of down-after, between 100 ms and 2 s (well below down-after). */
export function probeTimeoutMs(downAfterMs: number): number {
  return Math.min(2000, Math.max(100, Math.floor(downAfterMs / 4)));
}

/** The replication facts a report carries, from one `INFO replication` reading. */
export function toObservation(info: ReplicationInfo): Omit<ReplicationObservation, 'ageMs'> {
  if (info.role === 'master') {
    return { role: 'master', offset: info.masterReplOffset, replicas: info.connectedReplicas.length };
  }
  return {
    role: 'replica',
    offset: info.replicaReplOffset ?? info.masterReplOffset,
    masterHost: info.masterHost,
    masterPort: info.masterPort,
    linkUp: info.masterLinkStatus === 'up',
    linkDownSinceS: info.masterLinkDownSinceSeconds,
    ...(info.masterLastIoSeconds !== undefined ? { lastIoS: info.masterLastIoSeconds } : {}),
  };
}

/** Facts whose change is news (the offset moves with every write, so it is not). */
function sameShape(a: Omit<ReplicationObservation, 'ageMs'> | undefined, b: Omit<ReplicationObservation, 'ageMs'>): boolean {
  return (
    a !== undefined &&
    a.role === b.role &&
    a.runId === b.runId &&
    a.masterHost === b.masterHost &&
    a.masterPort === b.masterPort &&
    a.linkUp === b.linkUp &&
    a.replicas === b.replicas
  );
}

/**
 * Watches one Redis node over one long-lived connection: a PING every tick (never two in flight),
 * INFO replication now and then. Holds only the latest state; never throws.
 */
export class NodeProbe {
  private redis: Redis;
  private readonly watchingSince = Date.now();
  private lastOkAt: number | undefined;
  private latencyMs: number | undefined;
  private status: ProbeStatus = 'down';
  private error: string | undefined = 'not probed yet';
  private pingInFlight = false;
  private pingSentAt = 0;
  private pingTimedOut = false;
  private readonly timeoutMs: number;
  /** Nothing is reported before the first probe has an outcome (no "down" without evidence). */
  private probed = false;
  private infoInFlight = false;
  private infoDue = true;
  private lastInfoAt = 0;
  private repl: Omit<ReplicationObservation, 'ageMs'> | undefined;
  private replReadAt = 0;
  private replSentAt = 0;
  private replChanged = false;
  private closed = false;
  /** run_id only changes across a restart, which always means a new connection. */
  private runId: string | undefined;
  private runIdDue = true;
  /** The last credentials refusal, until a valid reply clears it. */
  private authError: string | undefined;
  /** Why the connection is not up (ECONNREFUSED, ETIMEDOUT, …): more useful than "stream isn't writeable". */
  private connectError: string | undefined;
  /** Since when the connection has not been ready (undefined while it is). */
  private notReadySince: number | undefined;
  private replacedAt = 0;

  constructor(
    readonly target: ProbeTarget,
    private readonly timings: ProbeTimings,
    private readonly connectionName: string,
  ) {
    this.timeoutMs = probeTimeoutMs(target.downAfterMs);
    this.notReadySince = Date.now();
    this.redis = this.open();
  }

  /** A new connection (a fresh ioredis client, so nothing of a stuck one carries over). */
  private open(): Redis {
    // No commandTimeout: ioredis would arm a timer per command. Each tick checks the PING in flight instead.
    const redis = new Redis({
      host: this.target.host,
      port: this.target.port,
      username: this.target.username,
      password: this.target.password,
      tls: this.target.tls ? {} : undefined,
      connectTimeout: this.timeoutMs,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      lazyConnect: true,
      // CLIENT SETNAME names the probe in CLIENT LIST; the two CLIENT SETINFO calls would add only round trips.
      connectionName: this.connectionName,
      disableClientInfo: true,
      // Reconnect at the probe rate, forever: a node that comes back is seen within one interval.
      retryStrategy: () => this.timings.intervalMs,
    });
    redis.on('error', (err: Error) => {
      if (redis !== this.redis) return;
      // A refused AUTH at connect surfaces here (ioredis then drops the connection), not on the PING.
      if (classifyProbeError(err).st === 'auth') this.authError = err.message.slice(0, 120);
      else {
        this.authError = undefined; // unreachable now: that is news of its own
        this.connectError = err.message.slice(0, 120);
        this.error = this.connectError;
      }
    });
    redis.on('close', () => {
      if (redis === this.redis) this.notReadySince ??= Date.now();
    });
    redis.on('ready', () => {
      if (redis !== this.redis) return;
      this.notReadySince = undefined;
      this.connectError = undefined;
      this.infoDue = true;
      this.runIdDue = true;
    });
    redis.connect().catch(() => undefined);
    return redis;
  }

  /** Starts this tick's probes; the results land in the state read by `observe`. */
  tick(now = Date.now()): void {
    if (this.closed) return;
    if (this.pingInFlight) {
      const waited = now - this.pingSentAt;
      if (!this.pingTimedOut && waited > this.timeoutMs) {
        // A hung peer or a silent path: say so (liveness itself is measured from the last valid reply).
        this.pingTimedOut = true;
        this.status = this.authError !== undefined ? 'auth' : 'down';
        this.error = this.authError ?? `PING timed out after ${this.timeoutMs} ms`;
        this.probed = true;
      }
      // Past down-after the connection is presumed dead (a half-open TCP never errors): open a new one,
      // which also fails the PING in flight, so a node that comes back is seen at once. Not sooner: under
      // load, reconnect storms would make slow replies slower.
      if (waited > this.target.downAfterMs) this.replaceConnection(now);
    } else if (this.redis.status === 'connect' && this.notReadySince !== undefined && now - this.notReadySince > handshakeLimitMs(this.target.downAfterMs)) {
      // Connected at the TCP level but its handshake never completes (a silent path, as across a
      // partition that accepts and drops): no PING can be in flight, so nothing above would ever replace
      // it. Start over, so the node is seen again soon after the path heals. Not sooner than a few
      // seconds: an agent opening thousands of connections at once is slow to finish handshakes, and
      // starting them over would only make it slower. (A TCP connect that hangs is ioredis' connectTimeout.)
      this.notReadySince = now;
      this.replaceConnection(now);
    } else {
      this.ping();
    }
    if (!this.infoInFlight && (this.infoDue || now - this.lastInfoAt >= this.timings.infoEveryMs)) void this.info();
  }

  /** The node as this agent sees it now, for the next report; `undefined` until the first probe has an outcome. */
  observe(now = Date.now()): NodeObservation | undefined {
    if (!this.probed) return undefined;
    const obs: NodeObservation = { id: this.target.id, st: this.status, ago: Math.max(0, now - (this.lastOkAt ?? this.watchingSince)) };
    if (this.latencyMs !== undefined) obs.lat = this.latencyMs;
    if (this.status !== 'ok' && this.error !== undefined) obs.err = this.error;
    if (this.repl && (this.replChanged || now - this.replSentAt >= this.timings.replRepeatMs)) {
      obs.repl = { ...this.repl, ageMs: Math.max(0, now - this.replReadAt) };
      this.replChanged = false;
      this.replSentAt = now;
    }
    return obs;
  }

  close(): void {
    this.closed = true;
    this.redis.disconnect();
  }

  /**
   * Drops the connection at once and opens a new one. Not `disconnect(true)`: that ends the socket
   * gracefully, and across a silent path the close never completes, so no reconnect follows; a stuck
   * handshake can also leave ioredis "ready" on a dead stream. A fresh client carries none of that.
   * At most once per `minGapMs` (down-after unless the old one is known dead); the PING in flight on the
   * old one fails with it.
   */
  private replaceConnection(now: number, minGapMs = this.target.downAfterMs): void {
    if (now - this.replacedAt < minGapMs) return;
    this.replacedAt = now;
    const old = this.redis;
    this.notReadySince = now;
    this.redis = this.open();
    (old as unknown as { stream?: { destroy(): void } }).stream?.destroy();
    old.disconnect();
  }

  private ping(): void {
    this.pingInFlight = true;
    this.pingTimedOut = false;
    const started = performance.now();
    this.pingSentAt = Date.now();
    this.redis.ping().then(
      () => {
        this.pingInFlight = false;
        this.valid('ok', started);
      },
      (err: unknown) => {
        this.pingInFlight = false;
        const outcome = classifyProbeError(err);
        if (outcome.st === 'busy') {
          this.valid('busy', started);
          this.error = outcome.err;
        } else if (!this.pingTimedOut) {
          this.status = this.authError !== undefined ? 'auth' : outcome.st;
          this.error = this.authError ?? (/isn't writeable/.test(outcome.err) ? (this.connectError ?? outcome.err) : outcome.err);
          this.probed = true;
        }
        // "Ready" on a stream that cannot be written: the server closed the connection during its
        // handshake (a CLIENT KILL run as a hung node woke) and ioredis will never reconnect it by itself.
        if (/isn't writeable/.test(outcome.err) && this.redis.status === 'ready') this.replaceConnection(Date.now(), this.timings.intervalMs);
      },
    );
  }

  private valid(st: 'ok' | 'busy', started: number): void {
    const wasDown = this.status !== 'ok' && this.status !== 'busy';
    this.status = st;
    this.error = undefined;
    this.authError = undefined;
    this.probed = true;
    this.lastOkAt = Date.now();
    this.latencyMs = Math.round((performance.now() - started) * 100) / 100;
    if (wasDown) this.infoDue = true;
  }

  private async info(): Promise<void> {
    this.infoInFlight = true;
    this.infoDue = false;
    this.lastInfoAt = Date.now();
    try {
      if (this.runIdDue) {
        const server = await this.redis.info('server');
        this.runId = /^run_id:(\S+)/m.exec(server)?.[1];
        this.runIdDue = false;
      }
      const text = await this.redis.info('replication');
      const next = { ...toObservation(parseReplicationInfo(text)), runId: this.runId };
      if (!sameShape(this.repl, next)) this.replChanged = true;
      this.repl = next;
      this.replReadAt = Date.now();
    } catch {
      // PING carries liveness; a failed INFO is retried on the next due tick.
    } finally {
      this.infoInFlight = false;
    }
  }
}
