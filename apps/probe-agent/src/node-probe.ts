import { RespErrorReply, type ReplyValue } from '../../../libs/resp/src/index.js';
import { parseReplicationInfo, type ReplicationInfo } from '../../../libs/redis-admin/src/index.js';
import { encodeCommand, isCredentialsRefusal, ProbeConnection, type ProbeConnectionListener } from './probe-connection.js';
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
  if (isCredentialsRefusal(message)) return { st: 'auth', err: message.slice(0, 120) };
  return { st: 'down', err: message.slice(0, 120) };
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

const PING = encodeCommand('PING');
const PING_INFO = Buffer.concat([PING, encodeCommand('INFO', 'replication')]);
const PING_INFO_SERVER = Buffer.concat([PING, encodeCommand('INFO', 'server'), encodeCommand('INFO', 'replication')]);
/** Added to a PING timeout on a connection whose handshake was never answered (accepted, then silent). */
export const HANDSHAKE_PENDING = 'the handshake not answered yet';
/** What a probe says while its connection is not up (the connect error, when there is one, says more). */
const NOT_CONNECTED = 'not connected';

/**
 * Watches one Redis node over one long-lived connection: a PING every tick (never two in flight), with
 * INFO replication in the same write when due. Holds only the latest state; never throws.
 */
export class NodeProbe {
  private conn: ProbeConnection;
  private readonly watchingSince = Date.now();
  private lastOkAt: number | undefined;
  private latencyMs: number | undefined;
  private status: ProbeStatus = 'down';
  private error: string | undefined = 'not probed yet';
  private pingInFlight = false;
  private pingSentAt = 0;
  private pingStarted = 0;
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
  /** Why the connection is not up (ECONNREFUSED, ETIMEDOUT, …). */
  private connectError: string | undefined;
  private replacedAt = 0;
  private readonly onPing = (reply: ReplyValue | Error): void => this.pingReply(reply);
  private readonly onInfoServer = (reply: ReplyValue | Error): void => this.infoServerReply(reply);
  private readonly onInfo = (reply: ReplyValue | Error): void => this.infoReply(reply);

  constructor(
    readonly target: ProbeTarget,
    private readonly timings: ProbeTimings,
    private readonly connectionName: string,
  ) {
    this.timeoutMs = probeTimeoutMs(target.downAfterMs);
    this.conn = this.open();
  }

  /** A new connection (INFO, run_id included, is read again on it); events of one that was replaced are ignored. */
  private open(): ProbeConnection {
    this.infoDue = true;
    this.runIdDue = true;
    const { host, port, username, password, tls } = this.target;
    const listener: ProbeConnectionListener = {
      onReady: () => {
        if (conn === this.conn) this.connectError = undefined;
      },
      onError: (message, auth) => {
        if (conn === this.conn) this.connectionFailed(message, auth);
      },
      // Seen on the next tick (state `closed`), which reconnects.
      onClose: () => undefined,
    };
    const conn = new ProbeConnection({ host, port, username, password, tls, name: this.connectionName }, listener);
    return conn;
  }

  private connectionFailed(message: string, auth: boolean): void {
    // A refused AUTH at connect surfaces here (the connection is then dropped), not on the PING.
    if (auth) this.authError = message;
    else {
      this.authError = undefined; // unreachable now: that is news of its own
      this.connectError = message;
      this.error = message;
    }
  }

  /** Starts this tick's probes; the results land in the state read by `observe`. */
  tick(now = Date.now()): void {
    if (this.closed) return;
    const conn = this.conn;
    // Reconnect at the probe rate, forever: a node that comes back is seen within one interval.
    if (conn.state === 'closed') this.conn = this.open();
    else if (conn.state === 'connecting' && now - conn.openedAt > this.timeoutMs) conn.fail('connect ETIMEDOUT');
    if (this.pingInFlight) {
      const waited = now - this.pingSentAt;
      if (!this.pingTimedOut && waited > this.timeoutMs) {
        // A hung peer or a silent path: say so (liveness itself is measured from the last valid reply).
        this.pingTimedOut = true;
        this.status = this.authError !== undefined ? 'auth' : 'down';
        this.error = this.authError ?? `PING timed out after ${this.timeoutMs} ms${this.conn.state === 'handshake' ? ` (${HANDSHAKE_PENDING})` : ''}`;
        this.probed = true;
      }
      // Past down-after the connection is presumed dead (a half-open TCP never errors, a path that accepts
      // and drops never answers the handshake the PING waits behind): open a new one, which also fails the
      // PING in flight, so a node that comes back is seen at once. Not sooner: under load, reconnect storms
      // would make slow replies slower.
      if (waited > this.target.downAfterMs) this.replaceConnection(now);
    } else {
      this.probe(now);
    }
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
    this.conn.destroy();
  }

  /**
   * Drops the connection at once and opens a new one, so nothing of a stuck one carries over. At most
   * once per down-after; the PING in flight on the old one fails with it.
   */
  private replaceConnection(now: number): void {
    if (now - this.replacedAt < this.target.downAfterMs) return;
    this.replacedAt = now;
    const old = this.conn;
    this.conn = this.open();
    old.destroy();
  }

  /**
   * A PING, with INFO (replication, and server for run_id after a reconnect) in the same write when due.
   * During the handshake they go out behind it: a node that answers slowly at first (thousands of agents'
   * connections arriving at once) is waited for like any slow reply, not called down for it.
   */
  private probe(now: number): void {
    if (this.conn.state !== 'ready' && this.conn.state !== 'handshake') {
      // Not connected: this tick's probe fails at once, with the most telling reason.
      this.status = this.authError !== undefined ? 'auth' : 'down';
      this.error = this.authError ?? this.connectError ?? NOT_CONNECTED;
      this.probed = true;
      return;
    }
    this.pingInFlight = true;
    this.pingTimedOut = false;
    this.pingStarted = performance.now();
    this.pingSentAt = now;
    const infoNow = !this.infoInFlight && (this.infoDue || now - this.lastInfoAt >= this.timings.infoEveryMs);
    if (!infoNow) {
      this.conn.send(PING, this.onPing);
      return;
    }
    this.infoInFlight = true;
    this.infoDue = false;
    this.lastInfoAt = now;
    if (this.runIdDue) this.conn.send(PING_INFO_SERVER, this.onPing, this.onInfoServer, this.onInfo);
    else this.conn.send(PING_INFO, this.onPing, this.onInfo);
  }

  private pingReply(reply: ReplyValue | Error): void {
    this.pingInFlight = false;
    if (!(reply instanceof Error)) {
      this.valid('ok');
      return;
    }
    const outcome = classifyProbeError(reply);
    if (outcome.st === 'busy') {
      this.valid('busy');
      this.error = outcome.err;
    } else if (!this.pingTimedOut) {
      this.status = this.authError !== undefined ? 'auth' : outcome.st;
      // An error reply says what is wrong; a lost connection, what its error said (ECONNRESET, …).
      this.error = this.authError ?? (reply instanceof RespErrorReply ? outcome.err : (this.connectError ?? outcome.err));
      this.probed = true;
    }
  }

  private valid(st: 'ok' | 'busy'): void {
    const wasDown = this.status !== 'ok' && this.status !== 'busy';
    this.status = st;
    this.error = undefined;
    this.authError = undefined;
    this.probed = true;
    this.lastOkAt = Date.now();
    this.latencyMs = Math.round((performance.now() - this.pingStarted) * 100) / 100;
    if (wasDown) this.infoDue = true;
  }

  private infoServerReply(reply: ReplyValue | Error): void {
    if (typeof reply !== 'string') return; // retried with the next INFO
    this.runId = /^run_id:(\S+)/m.exec(reply)?.[1];
    this.runIdDue = false;
  }

  private infoReply(reply: ReplyValue | Error): void {
    this.infoInFlight = false;
    // PING carries liveness; a failed INFO is retried on the next due tick.
    if (typeof reply !== 'string') return;
    try {
      const next = { ...toObservation(parseReplicationInfo(reply)), runId: this.runId };
      if (!sameShape(this.repl, next)) this.replChanged = true;
      this.repl = next;
      this.replReadAt = Date.now();
    } catch {
      // Not INFO output (a proxy in the way?): no replication facts from this reading.
    }
  }
}
