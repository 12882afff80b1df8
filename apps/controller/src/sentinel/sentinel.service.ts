import { createServer, type Server, type Socket } from 'node:net';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { encodeReply, R } from '../../../../libs/resp/src/index.js';
import { EventFeed } from '../audit/event-feed.service.js';
import { AuthService } from '../auth/auth.service.js';
import type { Principal } from '../auth/principal.js';
import { secretsEqual } from '../auth/token-secret.js';
import { ErrorCode, VigilError } from '../common/errors.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { DetectionService } from '../detection/detection.service.js';
import { FailsafeService } from '../discovery/failsafe.service.js';
import { MasterDirectory } from '../discovery/master-directory.service.js';
import { FailoverStore } from '../failover/failover-store.js';
import { OperatorActionsService, OperatorRefusedError, SENTINEL_PASSWORD_PRINCIPAL } from '../failover/operator-actions.service.js';
import { LeadershipService } from '../leadership/leadership.service.js';
import { MetricsService } from '../observability/metrics.service.js';
import type { CachedCluster, CachedNode } from '../topology/topology-cache.service.js';
import { changedByName } from '../topology/topology-snapshot.js';
import { NOPERM_OPERATOR, SentinelConnection, type SentinelBackend, type SentinelStats } from './sentinel-connection.js';
import { MasterLinks } from './master-links.js';
import { SentinelEvents } from './sentinel-events.js';
import type { InfoInput, InstanceFacts, MasterFacts, PeerFacts } from './sentinel-format.js';
import { runIdOf, SentinelPeers } from './sentinel-peers.service.js';

/** The Redis version the endpoint reports (the command set and reply formats it follows). */
const COMPAT_VERSION = '7.0.15';

/**
 * The Sentinel-compatible endpoint on `SENTINEL_PORT`: existing Sentinel clients (ioredis, node-redis,
 * redis-py, Jedis, go-redis) find the master here unchanged. Every answer comes from this replica's
 * memory: the master directory, detection's views and the peers list.
 */
@Injectable()
export class SentinelService implements SentinelBackend, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SentinelService.name);
  readonly runId: string;
  readonly password: string | undefined;
  private server: Server | undefined;
  private readonly connections = new Set<SentinelConnection>();
  private readonly sockets = new Set<Socket>();
  private subscribers: SentinelConnection[] = [];
  private nextId = 1;
  private readonly startedAt = Date.now();
  private closing: Promise<void> | undefined;
  private readonly stats: SentinelStats = { connectionsReceived: 0, commandsProcessed: 0, rejectedConnections: 0 };
  private readonly events: SentinelEvents;
  private boundPort = 0;
  /** Encoded lookup answers, dropped on every topology snapshot. */
  private readonly addressReplies = new Map<string, string | null>();
  private readonly published: Counter<'channel'>;
  /** This replica's own connection to each recorded master: Sentinel's link, for the `disconnected` flag. */
  private readonly links = new MasterLinks();

  constructor(
    private readonly directory: MasterDirectory,
    private readonly detection: DetectionService,
    private readonly actions: OperatorActionsService,
    private readonly auth: AuthService,
    private readonly store: FailoverStore,
    private readonly peers: SentinelPeers,
    private readonly feed: EventFeed,
    private readonly failsafe: FailsafeService,
    leadership: LeadershipService,
    metrics: MetricsService,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
  ) {
    this.runId = runIdOf(leadership.identity);
    this.password = config.sentinelPassword;
    this.events = new SentinelEvents(directory, (channel, payload) => this.publish(channel, payload));
    const connections = this.connections;
    new Gauge({
      name: 'vigil_sentinel_connections',
      help: 'Open connections to the Sentinel-compatible endpoint',
      registers: [metrics.registry],
      collect() {
        this.set(connections.size);
      },
    });
    this.published = new Counter({
      name: 'vigil_sentinel_messages_total',
      help: 'Pub/sub messages published on the Sentinel-compatible endpoint, by channel',
      labelNames: ['channel'],
      registers: [metrics.registry],
    });
  }

  get port(): number {
    return this.boundPort;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.sentinelPort === undefined) return;
    // TLS clusters get no link (a plain connection to a TLS port says little); the agents' view flags them.
    const linkTo = (c: CachedCluster) => (c.redis.tls ? null : (this.directory.get(c.name) ?? null));
    const follow = () => this.links.follow(new Map(this.directory.snapshot.clusters.map((c) => [c.name, linkTo(c)])));
    this.directory.onSnapshot((snapshot, change) => {
      if (change.kind === 'full') {
        this.addressReplies.clear();
        return follow();
      }
      // Only the clusters the change names: a write costs the same however many clusters exist.
      const { current, removed } = changedByName(snapshot, change);
      for (const name of removed) {
        this.addressReplies.delete(name);
        this.links.followOne(name, null);
      }
      for (const c of current) {
        this.addressReplies.delete(c.name);
        this.links.followOne(c.name, linkTo(c));
      }
    });
    follow();
    this.directory.moves.on('move', (m) => this.events.onMove(m));
    this.detection.transitions.on('transition', (t) => this.events.onTransition(t));
    this.feed.subscribe((e) => this.events.onEvent(e));
    const running = await this.store.runningAll();
    for (const f of running) this.events.failoverStarted(f.clusterName);
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.sentinelPort, this.config.publishHost, () => resolve());
    });
    server.on('error', (err) => this.logger.error({ err: err.message }, 'Sentinel endpoint error'));
    this.server = server;
    this.boundPort = (server.address() as { port: number }).port;
    await this.peers.start(this.boundPort);
    this.logger.log({ port: this.boundPort }, 'Sentinel-compatible endpoint listening');
  }

  /**
   * Stops listening and ends every client connection (after what has been written): clients move to
   * another endpoint of their list while this replica finishes shutting down.
   */
  beforeApplicationShutdown(): void {
    void this.stopListening();
    for (const s of this.sockets) s.end();
  }

  async onApplicationShutdown(): Promise<void> {
    this.links.close();
    for (const s of this.sockets) s.destroy();
    await this.stopListening();
  }

  /** Closes the listener once; every caller waits for the same 'close' (a second `close(cb)` would wait forever). */
  private stopListening(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    return this.closing;
  }

  private accept(socket: Socket): void {
    this.stats.connectionsReceived++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    if (this.connections.size >= this.config.sentinelMaxClients) {
      // As Redis at maxclients: say why, then close (buffering stays bounded by the connections served).
      this.stats.rejectedConnections++;
      socket.on('error', () => undefined);
      socket.setTimeout(1000, () => socket.destroy());
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    const conn = new SentinelConnection(socket, this.nextId++, this, this.stats, () => this.refreshSubscribers());
    this.connections.add(conn);
    socket.on('close', () => {
      this.connections.delete(conn);
      if (conn.subscribed) this.refreshSubscribers();
    });
  }

  private refreshSubscribers(): void {
    this.subscribers = [...this.connections].filter((c) => c.subscribed);
  }

  /** Sends a Sentinel event to every subscriber listening on `channel`. */
  publish(channel: string, payload: string): void {
    this.published.inc({ channel });
    for (const c of this.subscribers) c.deliver(channel, payload);
  }

  // ---- SentinelBackend: answers from memory ----

  masterAddressReply(name: string): string | null {
    // Unvouched topology: the same rule as REST and DNS (failsafe's last committed master, or nothing).
    if (!this.directory.isFresh()) {
      const p = this.failsafe.lookup(name);
      return p.kind === 'master' ? encodeReply(R.bulks([p.master.host, String(p.master.port)]), false) : null;
    }
    let reply = this.addressReplies.get(name);
    if (reply === undefined) {
      const m = this.directory.get(name);
      reply = m ? encodeReply(R.bulks([m.host, String(m.port)]), false) : null;
      if (this.addressReplies.size > 10_000) this.addressReplies.clear();
      this.addressReplies.set(name, reply);
    }
    return reply;
  }

  masterAddress(name: string): { host: string; port: number } | null | undefined {
    const m = this.directory.get(name);
    return m ? { host: m.host, port: m.port } : m;
  }

  masters(now: number): MasterFacts[] {
    const out: MasterFacts[] = [];
    for (const c of this.directory.snapshot.clusters) {
      const m = this.masterFacts(c, now);
      if (m) out.push(m);
    }
    return out;
  }

  master(name: string, now: number): MasterFacts | undefined {
    const c = this.directory.snapshot.clustersByName.get(name);
    return c && this.masterFacts(c, now);
  }

  replicas(name: string, now: number): { replicas: InstanceFacts[]; master: { host: string; port: number }; downAfterMs: number } | undefined {
    const c = this.directory.snapshot.clustersByName.get(name);
    const m = this.directory.get(name);
    if (!c || !m) return undefined;
    return { replicas: c.nodes.filter((n) => n.id !== m.nodeId).map((n) => this.facts(n, now)), master: m, downAfterMs: c.downAfterMs };
  }

  sentinels(name: string): { peers: PeerFacts[]; downAfterMs: number } | undefined {
    const c = this.directory.snapshot.clustersByName.get(name);
    if (!c || !this.directory.get(name)) return undefined;
    return { peers: this.peers.list(), downAfterMs: c.downAfterMs };
  }

  quorum(name: string): { usable: number; quorum: number; majority: boolean } | undefined {
    const c = this.directory.snapshot.clustersByName.get(name);
    if (!c || !this.directory.get(name)) return undefined;
    const d = this.detection.canDecide(c.id);
    return { usable: d.usable, quorum: c.quorum, majority: d.usable * 2 > d.assigned };
  }

  async authenticate(user: string | undefined, secret: string, address?: string): Promise<Principal | null> {
    // The password is checked under the same limit as tokens: a blocked address may not keep guessing it.
    if (address) this.auth.checkNotBlocked(address);
    if (this.password !== undefined && (user === undefined || user === 'default') && secretsEqual(secret, this.password)) {
      return SENTINEL_PASSWORD_PRINCIPAL;
    }
    try {
      const principal = await this.auth.authenticate(secret, address);
      // Agent tokens are for reports; on this endpoint, as on REST, reading needs at least viewer.
      return principal.role === 'agent' ? null : principal;
    } catch (err) {
      if (err instanceof VigilError && err.code === ErrorCode.UNAUTHENTICATED) return null;
      throw err;
    }
  }

  /** SENTINEL FAILOVER: the operator-actions authority decides (role, maintenance, a failover running), then the engine runs it. */
  async failover(name: string, principal: Principal): Promise<void> {
    try {
      const id = await this.actions.failover(name, { principal, via: 'sentinel' });
      const record = await this.store.get(id);
      if (record?.outcome === 'failed') throw new Error(`NOGOODSLAVE No suitable replica to promote (${record.error ?? 'failed'})`);
      if (record?.outcome === 'aborted') throw new Error(`ERR failover aborted: ${record.error ?? ''}`);
    } catch (err) {
      if (err instanceof OperatorRefusedError && err.refusal === 'forbidden') throw new Error(NOPERM_OPERATOR, { cause: err });
      if (err instanceof OperatorRefusedError && err.refusal === 'maintenance') {
        throw new Error(`ERR cluster ${name} is in maintenance until ${err.maintenanceUntil!.toISOString()}`, { cause: err });
      }
      if (err instanceof OperatorRefusedError && err.refusal === 'no-safe-candidate') {
        throw new Error(`NOGOODSLAVE No suitable replica to promote (${err.message})`, { cause: err });
      }
      if (err instanceof VigilError) {
        if (err.code === ErrorCode.CONFLICT) throw new Error('INPROG Failover already in progress', { cause: err });
        throw new Error(`ERR ${err.message}`, { cause: err });
      }
      throw err;
    }
  }

  info(): InfoInput {
    const masters = this.masters(Date.now());
    return {
      version: COMPAT_VERSION,
      runId: this.runId,
      port: this.boundPort,
      uptimeS: Math.floor((Date.now() - this.startedAt) / 1000),
      connectedClients: this.connections.size,
      connectionsReceived: this.stats.connectionsReceived,
      rejectedConnections: this.stats.rejectedConnections,
      commandsProcessed: this.stats.commandsProcessed,
      masters: masters.map((m) => ({
        name: m.name,
        status: m.state === 'odown' ? 'odown' : 'ok',
        host: m.host,
        port: m.port,
        slaves: m.numSlaves,
        sentinels: m.numOtherSentinels + 1,
      })),
    };
  }

  private masterFacts(c: CachedCluster, now: number): MasterFacts | undefined {
    const m = this.directory.get(c.name);
    if (!m) return undefined;
    const node = c.nodes.find((n) => n.id === m.nodeId);
    if (!node) return undefined;
    const facts = this.facts(node, now);
    // The link to the master closed and no agent has had a reply from it since: Sentinel's broken link.
    const closedAt = this.links.closedSince(c.name, node);
    if (closedAt !== undefined && (facts.lastOkAt ?? 0) <= closedAt) facts.disconnected = true;
    return {
      ...facts,
      name: c.name,
      epoch: m.epoch,
      quorum: c.quorum,
      downAfterMs: c.downAfterMs,
      failoverTimeoutMs: c.failoverTimeoutMs,
      numSlaves: c.nodes.length - 1,
      numOtherSentinels: this.peers.list().length,
      failoverInProgress: this.events.inFailover(c.name, m),
    };
  }

  /** One node as detection and the agents' latest INFO describe it. */
  private facts(node: CachedNode, now: number): InstanceFacts {
    const view = this.detection.nodeView(node.id, now);
    const repl = view.repl;
    const lastOkAt = view.lastOkAt;
    // The s_down flag stands for this controller's own opinion, which is its agents' majority: one
    // cut-off agent must not flag a healthy master (node-redis, for one, refuses a master flagged s_down).
    let state = view.state;
    if (state === 'sdown' && view.sdownVotes * 2 <= view.voters) state = 'up';
    let failing = 0;
    for (const v of view.votes) if (v.st === 'down') failing++;
    return {
      host: node.host,
      port: node.port,
      runId: repl?.runId ?? null,
      state,
      disconnected: failing * 2 > view.voters,
      stateSince: view.since,
      lastOkAt,
      infoReadAt: repl?.readAt ?? null,
      roleReported: repl?.role ?? null,
      offset: repl?.offset ?? null,
      masterHost: repl?.masterHost ?? null,
      masterPort: repl?.masterPort ?? null,
      linkUp: repl?.linkUp ?? null,
      linkDownSinceS: repl?.linkDownSinceS ?? null,
      priority: node.priority,
    };
  }
}
