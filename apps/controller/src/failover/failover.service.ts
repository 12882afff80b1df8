import { EventEmitter } from 'node:events';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  applyWriteSafety,
  disconnectClients,
  followMaster,
  handOver,
  probeReplication,
  readRole,
  promoteToMaster,
  type RedisNodeAddress,
} from '../../../../libs/redis-admin/src/index.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { FAILOVER_JOBS, QUEUES, type ReconcileReplicaJob, reconcileReplicaJobOptions } from '../jobs/queues.js';
import type { DetectionTransition } from '../detection/detection-engine.js';
import { DetectionService } from '../detection/detection.service.js';
import { LeadershipService } from '../leadership/leadership.service.js';
import { type CachedCluster, type CachedNode, TopologyCache } from '../topology/topology-cache.service.js';
import { ErrorCode, VigilError } from '../common/errors.js';
import { assertEpoch } from '../topology/topology.service.js';
import { type CandidateInput, type Ranking, rankCandidates } from './candidate-ranking.js';
import { autoFailoverRefusal } from './failover-policy.js';
import { FailoverStore, FencedError } from './failover-store.js';

/** A master change, emitted in-process the moment the promotion is verified and recorded. */
export interface MasterChanged {
  cluster: string;
  clusterId: string;
  /** The failover record the change belongs to (publishers write their status as its steps). */
  failoverId: string;
  epoch: number;
  from: { host: string; port: number } | null;
  to: { host: string; port: number };
  at: Date;
}

/** Why a failover started, as detection saw it. */
interface Cause {
  faultSince?: number;
  odownAt?: number;
  detail: Record<string, unknown>;
}

const SWEEP_MS = 1000;
/** A refusal for the same reason is recorded again at most this often. */
const REFUSAL_REPEAT_MS = 60_000;
/** At most one demotion attempt per rogue node in this window. */
const DEMOTE_EVERY_MS = 1000;

/** How long the old master gets to answer at decision time (it is ODOWN: usually it does not). */
const OLD_MASTER_PROBE_MS = 200;

const addr = (n: { host: string; port: number }) => `${n.host}:${n.port}`;

/**
 * The failover engine (leader only). On ODOWN of a recorded master it raises the epoch (fenced by the
 * lease), ranks the replicas from what they say now, fences the old master if it answers, promotes
 * the best candidate and verifies it with ROLE, records and publishes the new master, then re-points
 * the other replicas, disconnects clients on the changed nodes and applies the write-safety policy.
 * Every step is recorded with its time. An old master that comes back claiming master is demoted.
 */
@Injectable()
export class FailoverService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(FailoverService.name);
  /** Emits `master` with a `MasterChanged` as soon as a promotion is verified and recorded. */
  readonly masters = new EventEmitter();
  private readonly active = new Map<string, Promise<void>>();
  private readonly lastRefusal = new Map<string, { code: string; at: number }>();
  private readonly lastDemotion = new Map<string, number>();
  private readonly actor: string;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly detection: DetectionService,
    private readonly topology: TopologyCache,
    private readonly store: FailoverStore,
    private readonly leadership: LeadershipService,
    @InjectQueue(QUEUES.failover) private readonly failoverQueue: Queue<ReconcileReplicaJob>,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
  ) {
    this.actor = `controller:${config.controllerName}`;
  }

  onApplicationBootstrap(): void {
    this.detection.transitions.on('transition', (t: DetectionTransition) => {
      if (t.kind === 'node' && t.to === 'odown') this.consider(t.cluster.id, { faultSince: t.faultSince, odownAt: t.at, detail: { votes: t.votes } });
    });
    this.detection.rogueMasters.on('rogue', (r: { nodeId: string; runId?: string; agent: string }) => void this.demoteRogue(r.nodeId, r.runId, r.agent));
    this.detection.rogueMasters.on('misdirected', (r: { nodeId: string; follows: string }) => void this.queueReconciliation(r.nodeId, r.follows));
    // Picks up what a transition alone cannot: a new leader, a refusal that lifted (cooldown over, maintenance ended).
    this.timer = setInterval(() => void this.sweep(), SWEEP_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled(this.active.values());
  }

  leading(): boolean {
    return this.leadership.isLeader();
  }

  private sweeping = false;

  /** Adopt what a previous leader left running first, then act on masters still ODOWN. */
  private async sweep(): Promise<void> {
    if (!this.leadership.isLeader() || this.sweeping) return;
    this.sweeping = true;
    try {
      await this.adoptRunning();
      for (const cluster of this.topology.snapshot.clusters) {
        const master = cluster.nodes.find((n) => n.role === 'master');
        // The recorded state, not a fresh verdict: a verdict can read ODOWN from aging views before detection
        // has declared it, and a failover started here then would lose the transition's evidence (fault, ODOWN).
        if (master && this.detection.engine.nodes.get(master.id)?.state === 'odown') this.consider(cluster.id, { detail: { via: 'sweep' } });
      }
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'failover sweep failed');
    } finally {
      this.sweeping = false;
    }
  }

  /**
   * Failovers a previous leader left running: superseded ones (the epoch moved on) are closed as
   * aborted; the current one of each cluster is resumed by this leader under the same record and epoch.
   */
  private async adoptRunning(): Promise<void> {
    for (const record of await this.store.runningAll()) {
      const cluster = record.clusterId ? this.topology.snapshot.clustersById.get(record.clusterId) : undefined;
      if (!cluster || this.active.has(cluster.id) || !this.leadership.isLeader()) continue;
      if (record.epoch < cluster.epoch) {
        const error = `superseded by epoch ${cluster.epoch}`;
        await this.store.finish(record.id, 'aborted', null, error, {
          type: 'failover.aborted',
          actor: this.actor,
          cluster,
          data: { failoverId: record.id, epoch: record.epoch, error },
        });
        continue;
      }
      const oldMaster = cluster.nodes.find((n) => record.fromAddress === addr(n));
      const run = new FailoverRun(this, cluster, oldMaster, { id: record.id, epoch: record.epoch, startedAt: record.startedAt }, { detail: {} })
        .resume(record.trigger)
        .catch((err: unknown) => this.logger.error({ cluster: cluster.name, err: (err as Error).message }, 'resumed failover failed'))
        .finally(() => this.active.delete(cluster.id));
      this.active.set(cluster.id, run);
      this.logger.warn({ cluster: cluster.name, failoverId: record.id, epoch: record.epoch }, 'resuming a failover left running by a previous leader');
    }
  }

  /** Starts a failover of the cluster unless one runs in this process already. */
  private consider(clusterId: string, cause: Cause): void {
    if (!this.leadership.isLeader() || this.active.has(clusterId)) return;
    const run = this.run(clusterId, cause)
      .catch((err: unknown) => this.logger.error({ clusterId, err: (err as Error).message }, 'failover run failed'))
      .finally(() => this.active.delete(clusterId));
    this.active.set(clusterId, run);
  }

  private async run(clusterId: string, cause: Cause): Promise<void> {
    const cluster = this.topology.snapshot.clustersById.get(clusterId);
    const master = cluster?.nodes.find((n) => n.role === 'master');
    if (!cluster || !master) return;
    const now = Date.now();
    if (this.detection.engine.verdict(master.id, now)?.state !== 'odown') return;

    const history = await this.store.history(cluster.id);
    const refusal = autoFailoverRefusal({
      now,
      autoFailover: cluster.autoFailover,
      maintenanceUntil: cluster.maintenanceUntil?.getTime() ?? null,
      cooldownMs: cluster.cooldownMs,
      lastFailoverFinishedAt: history.lastFinishedAt?.getTime() ?? null,
      running: history.running !== null,
      canDecide: this.detection.engine.healthyAgents(cluster.id) >= cluster.quorum,
    });
    if (refusal) {
      // One running already is not news: it is this leader's own, or one the sweep adopts and completes.
      if (refusal.code === 'running') return;
      const last = this.lastRefusal.get(cluster.id);
      if (!last || last.code !== refusal.code || now - last.at > REFUSAL_REPEAT_MS) {
        this.lastRefusal.set(cluster.id, { code: refusal.code, at: now });
        await this.store.record({
          type: 'failover.refused',
          actor: this.actor,
          cluster,
          data: { code: refusal.code, reason: refusal.reason, master: addr(master), epoch: cluster.epoch },
        });
      }
      return;
    }
    this.lastRefusal.delete(cluster.id);

    let begun: { id: string; epoch: number; startedAt: Date };
    try {
      begun = await this.begin(cluster, master, 'auto', this.actor, cause.detail);
    } catch (err) {
      if (err instanceof FencedError) {
        this.logger.warn({ cluster: cluster.name, err: err.message }, 'not failing over: fenced');
        return;
      }
      throw err;
    }
    await new FailoverRun(this, cluster, master, begun, cause).execute();
  }

  /** Queues the re-pointing of a replica that follows the wrong master (retried by BullMQ, leader only). */
  private async queueReconciliation(nodeId: string, follows: string): Promise<void> {
    const node = this.topology.snapshot.nodesById.get(nodeId);
    if (!node || !this.leadership.isLeader() || this.active.has(node.clusterId)) return;
    const now = Date.now();
    if (now - (this.lastDemotion.get(nodeId) ?? 0) < DEMOTE_EVERY_MS) return;
    this.lastDemotion.set(nodeId, now);
    await this.failoverQueue
      .add(FAILOVER_JOBS.reconcileReplica, { clusterId: node.clusterId, nodeId, follows }, reconcileReplicaJobOptions(nodeId))
      .catch((err: Error) => this.logger.warn({ nodeId, err: err.message }, 'could not queue a replica reconciliation'));
  }

  /**
   * The reconciliation job: if the node still follows another node than the recorded master, and that
   * master is up, point it there. Throws (to be retried) when this replica does not lead.
   */
  async reconcileReplica(job: ReconcileReplicaJob): Promise<'repointed' | 'nothing to do'> {
    if (!this.leadership.isLeader()) throw new Error('not the leader: retried later (the leader acts)');
    const cluster = this.topology.snapshot.clustersById.get(job.clusterId);
    const node = cluster?.nodes.find((n) => n.id === job.nodeId);
    const master = cluster?.nodes.find((n) => n.role === 'master');
    if (!cluster || !node || !master || master.id === node.id || this.active.has(cluster.id)) return 'nothing to do';
    if (this.detection.engine.verdict(master.id, Date.now())?.state !== 'up') throw new Error(`recorded master ${addr(master)} is not up`);
    const probe = await probeReplication(this.address(cluster, node), this.config.redisAdminTimeoutMs);
    if (!probe.ok) throw new Error(`${addr(node)} does not answer: ${probe.error}`);
    if (probe.info.role !== 'replica' || `${probe.info.masterHost}:${probe.info.masterPort}`.toLowerCase() === addr(master)) return 'nothing to do';
    const role = await followMaster(this.address(cluster, node), master, this.config.redisAdminTimeoutMs);
    await this.store.record({
      type: 'node.repointed',
      actor: this.actor,
      cluster,
      data: { node: addr(node), followed: `${probe.info.masterHost}:${probe.info.masterPort}`, master: addr(master), epoch: cluster.epoch, role },
    });
    return 'repointed';
  }

  /** Demotes a node that claims master while the topology holds another node as master, if that one is up. */
  private async demoteRogue(nodeId: string, runId: string | undefined, agent: string): Promise<void> {
    if (!this.leadership.isLeader()) return;
    const now = Date.now();
    if (now - (this.lastDemotion.get(nodeId) ?? 0) < DEMOTE_EVERY_MS) return;
    const node = this.topology.snapshot.nodesById.get(nodeId);
    const cluster = node && this.topology.snapshot.clustersById.get(node.clusterId);
    const master = cluster?.nodes.find((n) => n.role === 'master');
    if (!node || !cluster || !master || master.id === nodeId || this.active.has(cluster.id)) return;
    if (this.detection.engine.verdict(master.id, now)?.state !== 'up') return; // nowhere safe to point it
    this.lastDemotion.set(nodeId, now);
    try {
      const role = await followMaster(this.address(cluster, node), master, this.config.redisAdminTimeoutMs);
      await this.store.record({
        type: 'node.demoted',
        actor: this.actor,
        cluster,
        data: { node: addr(node), runId, seenBy: agent, master: addr(master), epoch: cluster.epoch, role },
      });
      this.logger.warn({ cluster: cluster.name, node: addr(node), master: addr(master) }, 'demoted a node claiming master');
    } catch (err) {
      this.logger.warn({ cluster: cluster.name, node: addr(node), err: (err as Error).message }, 'could not demote a node claiming master');
    }
  }

  /**
   * What every node says now and the replicas ranked from it (the old master gets a short leash:
   * detection may hold it down, and a hang must not stall the decision).
   */
  async rank(cluster: CachedCluster, oldMaster: CachedNode | undefined): Promise<{ ranking: Ranking; oldMasterAnswers: boolean }> {
    const timeout = this.config.redisAdminTimeoutMs;
    const now = Date.now();
    // The old master only has to say whether it answers at all (one ROLE, short timeout); the others their replication state.
    const [oldAnswers, probes] = await Promise.all([
      oldMaster
        ? readRole(this.address(cluster, oldMaster), Math.min(timeout, OLD_MASTER_PROBE_MS)).then(
            () => true,
            () => false,
          )
        : Promise.resolve(false),
      Promise.all(
        cluster.nodes.filter((n) => n.id !== oldMaster?.id).map(async (n) => ({ node: n, probe: await probeReplication(this.address(cluster, n), timeout) })),
      ),
    ]);
    const inputs: CandidateInput[] = probes.map(({ node, probe }) => ({
      id: node.id,
      host: node.host,
      port: node.port,
      priority: node.priority,
      detection: this.detection.engine.verdict(node.id, now)?.state ?? 'unknown',
      probe: probe.ok
        ? {
            ok: true as const,
            role: probe.info.role,
            offset: probe.info.role === 'replica' ? (probe.info.replicaReplOffset ?? probe.info.masterReplOffset) : probe.info.masterReplOffset,
            linkUp: probe.info.masterLinkStatus === undefined ? undefined : probe.info.masterLinkStatus === 'up',
            linkDownSinceS: probe.info.masterLinkDownSinceSeconds,
            syncInProgress: probe.info.syncInProgress,
          }
        : { ok: false as const, error: probe.error },
    }));
    const ranking = rankCandidates(inputs, { maxLinkDownMs: cluster.downAfterMs * 10 + 10_000, maxReplicaLagBytes: cluster.maxReplicaLagBytes });
    return { ranking, oldMasterAnswers: oldAnswers };
  }

  /** The ranked candidates with the reason for each exclusion, changing nothing. */
  async dryRun(name: string, target?: string): Promise<{ cluster: CachedCluster; ranking: Ranking; target: string | null }> {
    const cluster = this.clusterNamed(name);
    const { ranking } = await this.rank(
      cluster,
      cluster.nodes.find((n) => n.role === 'master'),
    );
    return { cluster, ranking: target ? restrictTo(ranking, target) : ranking, target: target ?? null };
  }

  /**
   * An operator's forced failover: no ODOWN needed and no maintenance, cooldown or auto-failover
   * check (the operator decides), but never while another runs, and only on the leader. Promotes
   * `target` ("host:port") when given and eligible, else the best candidate. Resolves when it is done.
   */
  manual(name: string, actor: string, options: { target?: string; expectedEpoch?: number }): Promise<string> {
    return this.operatorRun(name, 'manual', actor, options);
  }

  /**
   * A planned, lossless switchover to `target` (or the best candidate) with Redis' FAILOVER command:
   * no acknowledged write is lost; if the target cannot catch up in time Redis aborts and the record
   * says so (outcome `aborted`). Only on the leader, never while another failover runs.
   */
  switchover(name: string, actor: string, options: { target?: string; expectedEpoch?: number }): Promise<string> {
    return this.operatorRun(name, 'switchover', actor, options);
  }

  /** An operator's failover or switchover, run to its end; answers the record's id. */
  private async operatorRun(
    name: string,
    trigger: 'manual' | 'switchover',
    actor: string,
    options: { target?: string; expectedEpoch?: number },
  ): Promise<string> {
    if (!this.leadership.isLeader()) {
      throw new VigilError(ErrorCode.UNAVAILABLE, 'this controller replica is not the leader; send the request to the leader (GET /leadership)');
    }
    const cluster = this.clusterNamed(name);
    assertEpoch(cluster, options.expectedEpoch);
    const master = cluster.nodes.find((n) => n.role === 'master');
    if (trigger === 'switchover' && !master) throw VigilError.conflict(`cluster ${name} has no recorded master to hand over from`);
    if (this.active.has(cluster.id) || (await this.store.history(cluster.id)).running) throw VigilError.conflict(`a failover of ${name} is already running`);
    let id = '';
    const run = (async () => {
      const begun = await this.begin(cluster, master, trigger, actor, { target: options.target ?? null });
      id = begun.id;
      const failover = new FailoverRun(this, cluster, master, begun, { detail: { actor } }, options.target);
      await (trigger === 'switchover' ? failover.switchover() : failover.execute());
    })();
    this.active.set(
      cluster.id,
      run.catch(() => undefined).finally(() => this.active.delete(cluster.id)),
    );
    try {
      await run;
    } catch (err) {
      if (err instanceof FencedError) throw VigilError.conflict(err.message, 'expectedEpoch');
      throw err;
    }
    return id;
  }

  private clusterNamed(name: string): CachedCluster {
    const cluster = this.topology.snapshot.clustersByName.get(name);
    if (!cluster) throw VigilError.notFound(`cluster ${name}`);
    return cluster;
  }

  private begin(
    cluster: CachedCluster,
    master: CachedNode | undefined,
    trigger: 'auto' | 'manual' | 'switchover',
    actor: string,
    data: Record<string, unknown>,
  ) {
    return this.store.begin({
      cluster,
      expectedEpoch: cluster.epoch,
      trigger,
      fromAddress: master ? addr(master) : null,
      actor,
      lease: { holder: this.leadership.identity, term: this.leadership.currentTerm },
      event: { data: { from: master ? addr(master) : null, ...data } },
    });
  }

  address(cluster: CachedCluster, node: { host: string; port: number }): RedisNodeAddress {
    return { host: node.host, port: node.port, username: cluster.redis.username, password: cluster.redis.password, tls: cluster.redis.tls };
  }

  /** For `FailoverRun`: the collaborators it needs, and nothing else. */
  get deps() {
    return {
      store: this.store,
      detection: this.detection,
      topology: this.topology,
      config: this.config,
      actor: this.actor,
      masters: this.masters,
      logger: this.logger,
    };
  }
}

/** One failover from its begun record to its outcome; steps are recorded and timed as they happen. */
class FailoverRun {
  private readonly d: FailoverService['deps'];
  private readonly deadline: number;

  constructor(
    private readonly svc: FailoverService,
    private readonly cluster: CachedCluster,
    private readonly oldMaster: CachedNode | undefined,
    private readonly begun: { id: string; epoch: number; startedAt: Date },
    private readonly cause: Cause,
    private readonly target?: string,
  ) {
    this.d = svc.deps;
    this.deadline = begun.startedAt.getTime() + cluster.failoverTimeoutMs;
  }

  /** Before every action on a Redis node: a replica that lost the lease stops at once. */
  private guard(): void {
    if (!this.svc.leading()) throw new FencedError('this controller replica no longer leads');
  }

  /**
   * The next leader's roll-forward of a failover a previous leader left running: if a replica already
   * answers ROLE master it is adopted (never a second promotion for the epoch); if none does, the
   * candidates are ranked and promoted under the same record and epoch; a switchover that did not
   * complete is closed as aborted (Redis itself aborts a hand-over that did not finish).
   */
  async resume(trigger: string): Promise<void> {
    const { cluster, oldMaster } = this;
    const timeout = this.d.config.redisAdminTimeoutMs;
    await this.step('resumed', 'succeeded', { by: this.d.actor });
    const roles = await Promise.all(
      cluster.nodes
        .filter((n) => n.id !== oldMaster?.id)
        .map(async (n) => ({ node: n, role: await readRole(this.svc.address(cluster, n), timeout).catch(() => undefined) })),
    );
    const masters = roles.filter((r) => r.role?.role === 'master').map((r) => r.node);
    const phases: Record<string, string> = { decided: this.begun.startedAt.toISOString() };
    const mark = (name: string, at = new Date()) => (phases[name] = at.toISOString());
    if (masters.length > 1) {
      const error = `several nodes answer ROLE master (${masters.map(addr).join(', ')}): an operator must decide`;
      await this.d.store.finish(this.begun.id, 'failed', null, error, this.event('failover.failed', { error }));
      return;
    }
    if (masters.length === 1) {
      const adopted = masters[0]!;
      mark('promoted');
      await this.step('promoted', 'succeeded', { node: addr(adopted), adopted: true });
      await this.complete(adopted, false, phases, mark);
      return;
    }
    if (trigger === 'switchover') {
      const error = 'interrupted by a change of leader before the hand-over completed';
      await this.d.store.finish(this.begun.id, 'aborted', null, error, this.event('failover.aborted', { error }));
      return;
    }
    await this.decideAndPromote(phases, mark);
  }

  private step(name: string, status: 'started' | 'succeeded' | 'failed' | 'skipped', detail: Record<string, unknown> = {}, at = new Date()): Promise<void> {
    return this.d.store.step(this.begun.id, name, status, at, detail);
  }

  private event(type: string, data: Record<string, unknown>) {
    return { type, actor: this.d.actor, cluster: this.cluster, data: { failoverId: this.begun.id, epoch: this.begun.epoch, ...data } };
  }

  async execute(): Promise<void> {
    const phases: Record<string, string> = {};
    const mark = (name: string, at = new Date()) => (phases[name] = at.toISOString());
    if (this.cause.faultSince !== undefined) {
      mark('faultSeen', new Date(this.cause.faultSince));
      await this.step('fault_seen', 'succeeded', {}, new Date(this.cause.faultSince));
    }
    if (this.cause.odownAt !== undefined) {
      mark('odown', new Date(this.cause.odownAt));
      await this.step('odown', 'succeeded', this.cause.detail, new Date(this.cause.odownAt));
    }
    mark('decided', this.begun.startedAt);
    await this.step('decided', 'succeeded', { epoch: this.begun.epoch }, this.begun.startedAt);

    await this.decideAndPromote(phases, mark);
  }

  private async decideAndPromote(phases: Record<string, string>, mark: (name: string, at?: Date) => void): Promise<void> {
    const { cluster, oldMaster } = this;
    const timeout = this.d.config.redisAdminTimeoutMs;
    // What every node says now: the candidates' offsets are read fresh, and the old master may answer.
    const ranked = await this.svc.rank(cluster, oldMaster);
    const ranking = this.target ? restrictTo(ranked.ranking, this.target) : ranked.ranking;
    const oldMasterAnswers = ranked.oldMasterAnswers;
    await this.step('candidates', ranking.candidates.length > 0 ? 'succeeded' : 'failed', { ...ranking, ...(this.target ? { target: this.target } : {}) });

    for (const candidate of ranking.candidates) {
      if (Date.now() > this.deadline) break;
      // Fence the old master first when it still answers: it must not take writes once another is master.
      if (oldMaster && oldMasterAnswers) {
        try {
          await followMaster(this.svc.address(cluster, oldMaster), candidate, timeout);
          await this.step('old_master_fenced', 'succeeded', { node: addr(oldMaster), follows: addr(candidate) });
        } catch (err) {
          await this.step('old_master_fenced', 'failed', { node: addr(oldMaster), error: (err as Error).message });
        }
      } else if (oldMaster) {
        await this.step('old_master_fenced', 'skipped', { node: addr(oldMaster), reason: 'does not answer; demoted when it returns' });
      }
      try {
        this.guard();
        const role = await promoteToMaster(this.svc.address(cluster, candidate), timeout);
        mark('promoted');
        await this.step('promoted', 'succeeded', { node: addr(candidate), role });
      } catch (err) {
        await this.step('promoted', 'failed', { node: addr(candidate), error: (err as Error).message });
        continue;
      }
      await this.complete(candidate, oldMasterAnswers, phases, mark);
      return;
    }
    const error =
      ranking.candidates.length === 0
        ? 'no replica can be promoted'
        : Date.now() > this.deadline
          ? 'failover timeout reached'
          : 'every candidate failed to promote';
    await this.d.store.finish(
      this.begun.id,
      'failed',
      null,
      error,
      this.event('failover.failed', { from: oldMaster ? addr(oldMaster) : null, error, excluded: ranking.excluded }),
    );
    this.d.logger.error({ cluster: cluster.name, error }, 'failover failed');
  }

  /** From a verified promotion to the finished record: publish, re-point, disconnect, write safety. */
  private async complete(
    candidate: { id: string; host: string; port: number },
    oldMasterAnswers: boolean,
    phases: Record<string, string>,
    mark: (name: string, at?: Date) => void,
  ): Promise<void> {
    await this.publish(candidate, mark);
    this.guard();
    await this.afterPromotion(candidate, oldMasterAnswers, mark);
    await this.d.store.finish(
      this.begun.id,
      'succeeded',
      addr(candidate),
      null,
      this.event('failover.succeeded', { from: this.oldMaster ? addr(this.oldMaster) : null, to: addr(candidate), phases, durationsMs: durations(phases) }),
    );
  }

  /** The planned hand-over: the old master itself waits for the target to catch up before it steps down. */
  async switchover(): Promise<void> {
    const { cluster } = this;
    const oldMaster = this.oldMaster!;
    const timeout = this.d.config.redisAdminTimeoutMs;
    const phases: Record<string, string> = { decided: this.begun.startedAt.toISOString() };
    const mark = (name: string, at = new Date()) => (phases[name] = at.toISOString());
    await this.step('decided', 'succeeded', { epoch: this.begun.epoch, trigger: 'switchover' }, this.begun.startedAt);
    const ranked = await this.svc.rank(cluster, oldMaster);
    const ranking = this.target ? restrictTo(ranked.ranking, this.target) : ranked.ranking;
    await this.step('candidates', ranking.candidates.length > 0 ? 'succeeded' : 'failed', { ...ranking, ...(this.target ? { target: this.target } : {}) });
    const candidate = ranking.candidates[0];
    if (!candidate) {
      const error = 'no replica can take over';
      await this.d.store.finish(
        this.begun.id,
        'failed',
        null,
        error,
        this.event('failover.failed', { from: addr(oldMaster), error, excluded: ranking.excluded }),
      );
      return;
    }
    const waitMs = Math.max(1000, Math.min(cluster.failoverTimeoutMs, 10_000));
    try {
      const after = await handOver(this.svc.address(cluster, oldMaster), candidate, waitMs, timeout);
      const targetRole = await readRole(this.svc.address(cluster, candidate), timeout);
      if (targetRole.role !== 'master') {
        const error = `the target did not take over (it is ${targetRole.role}; the old master is ${after.role}): Redis aborted the hand-over`;
        await this.step('handed_over', 'failed', { node: addr(candidate), oldMaster: after, target: targetRole });
        await this.d.store.finish(this.begun.id, 'aborted', null, error, this.event('failover.aborted', { from: addr(oldMaster), to: addr(candidate), error }));
        return;
      }
      mark('promoted');
      await this.step('handed_over', 'succeeded', { node: addr(candidate), oldMaster: after, waitMs });
    } catch (err) {
      const error = (err as Error).message;
      await this.step('handed_over', 'failed', { node: addr(candidate), error });
      await this.d.store.finish(this.begun.id, 'aborted', null, error, this.event('failover.aborted', { from: addr(oldMaster), to: addr(candidate), error }));
      return;
    }
    await this.publish(candidate, mark);
    await this.afterPromotion(candidate, true, mark);
    await this.d.store.finish(
      this.begun.id,
      'succeeded',
      addr(candidate),
      null,
      this.event('failover.succeeded', { from: addr(oldMaster), to: addr(candidate), phases, durationsMs: durations(phases) }),
    );
  }

  /** Records the new master under the failover's epoch (the database refuses a stale one), then tells the publishers. */
  private async publish(candidate: { id: string; host: string; port: number }, mark: (name: string) => void): Promise<void> {
    await this.d.store.recordMaster(
      this.cluster.id,
      this.begun.epoch,
      candidate.id,
      this.event('master.changed', { from: this.oldMaster ? addr(this.oldMaster) : null, to: addr(candidate) }),
    );
    const at = new Date();
    mark('published');
    // This replica's publishers (REST, Sentinel endpoint, DNS) answer the new master before anything else
    // happens; the other replicas follow on the NOTIFY the commit sent.
    await this.d.topology.reload();
    const change: MasterChanged = {
      cluster: this.cluster.name,
      clusterId: this.cluster.id,
      failoverId: this.begun.id,
      epoch: this.begun.epoch,
      from: this.oldMaster ? { host: this.oldMaster.host, port: this.oldMaster.port } : null,
      to: { host: candidate.host, port: candidate.port },
      at,
    };
    // Listeners enqueue the slower publications (external DNS); they never hold the failover.
    this.d.masters.emit('master', change);
    await this.step('published', 'succeeded', { master: addr(candidate), epoch: this.begun.epoch }, at);
  }

  /**
   * Disconnects clients on the changed nodes (pools then re-resolve and find the published master),
   * re-points the other replicas, applies the write-safety policy.
   */
  private async afterPromotion(candidate: { id: string; host: string; port: number }, oldMasterAnswers: boolean, mark: (name: string) => void): Promise<void> {
    const { cluster } = this;
    const timeout = this.d.config.redisAdminTimeoutMs;
    const changed = [candidate, ...(oldMasterAnswers && this.oldMaster ? [this.oldMaster] : [])];
    const killed = await Promise.all(
      changed.map(async (n) => {
        try {
          return { node: addr(n), disconnected: await disconnectClients(this.svc.address(cluster, n), timeout) };
        } catch (err) {
          return { node: addr(n), error: (err as Error).message };
        }
      }),
    );
    await this.step('clients_disconnected', 'succeeded', { nodes: killed });

    const others = cluster.nodes.filter((n) => n.id !== candidate.id && n.id !== this.oldMaster?.id);
    const repointed = await Promise.all(
      others.map(async (n) => {
        try {
          await followMaster(this.svc.address(cluster, n), candidate, timeout);
          return { node: addr(n), ok: true };
        } catch (err) {
          return { node: addr(n), ok: false, error: (err as Error).message };
        }
      }),
    );
    mark('repointed');
    await this.step('replicas_repointed', repointed.every((r) => r.ok) ? 'succeeded' : 'failed', { replicas: repointed });

    if (cluster.minReplicasToWrite > 0) {
      try {
        await applyWriteSafety(this.svc.address(cluster, candidate), cluster.minReplicasToWrite, cluster.minReplicasMaxLagS, timeout);
        await this.step('write_safety', 'succeeded', { minReplicasToWrite: cluster.minReplicasToWrite, minReplicasMaxLagS: cluster.minReplicasMaxLagS });
      } catch (err) {
        await this.step('write_safety', 'failed', { error: (err as Error).message });
      }
    }
  }
}

/** Only `target` ("host:port") may be promoted: the others are excluded, saying so. */
function restrictTo(ranking: Ranking, target: string): Ranking {
  const keep = ranking.candidates.filter((c) => addr(c) === target);
  const others = ranking.candidates
    .filter((c) => addr(c) !== target)
    .map((c) => ({ id: c.id, host: c.host, port: c.port, reason: `not the requested target ${target}` }));
  return { candidates: keep, excluded: [...ranking.excluded, ...others] };
}

/** Milliseconds from each phase to the next, and in all. */
function durations(phases: Record<string, string>): Record<string, number> {
  const order = ['faultSeen', 'odown', 'decided', 'promoted', 'published', 'repointed'].filter((p) => phases[p]);
  const out: Record<string, number> = {};
  for (let i = 1; i < order.length; i++) out[`${order[i - 1]}→${order[i]}`] = Date.parse(phases[order[i]!]!) - Date.parse(phases[order[i - 1]!]!);
  if (order.length > 1) out['total'] = Date.parse(phases[order[order.length - 1]!]!) - Date.parse(phases[order[0]!]!);
  return out;
}
