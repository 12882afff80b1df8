import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { followMaster, probeReplication, promoteToMaster } from '../../../../libs/redis-admin/src/index.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { DetectionService } from '../detection/detection.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { FAILOVER_JOBS, QUEUES, type ReconcileReplicaJob, reconcileReplicaJobOptions } from '../jobs/queues.js';
import { type CachedCluster, TopologyCache } from '../topology/topology-cache.service.js';
import { ClusterDecisions } from './cluster-decisions.js';
import { nodeAddress } from './cluster-observer.js';
import { FailoverRuns } from './failover-runs.js';

/** At most one repair attempt per node in this window. */
const REPAIR_EVERY_MS = 1000;
/** A fault that persists is recorded again at most this often. */
const FAULT_REPEAT_MS = 60_000;

const addr = (n: { host: string; port: number }) => `${n.host}:${n.port}`;

/**
 * Brings nodes back in line with the recorded topology (leader only), outside any failover:
 * - a node claiming master that the topology holds as a replica (an old master back from a failover,
 *   a node restarted empty) is demoted to follow the recorded master — only while the recorded master
 *   is up *and* itself reports master, so a repair never leaves the group with no master;
 * - a replica following another node than the recorded master is re-pointed (BullMQ job, retried);
 * - a recorded master that reports itself a replica is a fault (`master.reports_replica`): when no node
 *   of the group claims master it is made master again (`master.repaired`); when another node claims
 *   master, the group was changed behind Vigil's back and an operator decides (nothing is demoted).
 */
@Injectable()
export class NodeReconciler implements OnApplicationBootstrap {
  private readonly logger = new Logger(NodeReconciler.name);
  private readonly lastAttempt = new Map<string, number>();
  private readonly lastFault = new Map<string, number>();

  constructor(
    private readonly detection: DetectionService,
    private readonly topology: TopologyCache,
    private readonly runs: FailoverRuns,
    private readonly decisions: ClusterDecisions,
    private readonly jobs: JobsService,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.detection.rogueMasters.on('rogue', (r: { nodeId: string; runId?: string; agent: string }) => void this.demoteRogue(r.nodeId, r.runId, r.agent));
    this.detection.rogueMasters.on('misdirected', (r: { nodeId: string; follows: string }) => void this.queueReconciliation(r.nodeId, r.follows));
    this.detection.rogueMasters.on('master-reports-replica', (r: { nodeId: string; follows: string; agent: string }) => void this.masterReportsReplica(r));
  }

  private due(nodeId: string): boolean {
    const now = Date.now();
    if (now - (this.lastAttempt.get(nodeId) ?? 0) < REPAIR_EVERY_MS) return false;
    this.lastAttempt.set(nodeId, now);
    return true;
  }

  /** The recorded master of the node's cluster, when it is up and reports master itself (somewhere safe to point a node). */
  private usableMaster(cluster: CachedCluster) {
    const master = cluster.nodes.find((n) => n.role === 'master');
    const view = master && this.detection.nodeView(master.id);
    return view && view.state === 'up' && view.repl?.role !== 'replica' ? master : undefined;
  }

  /** Queues the re-pointing of a replica that follows the wrong master (retried by BullMQ, leader only). */
  private async queueReconciliation(nodeId: string, follows: string): Promise<void> {
    const node = this.topology.snapshot.nodesById.get(nodeId);
    if (!node || !this.runs.leadership.isLeader() || this.runs.isActive(node.clusterId) || !this.due(nodeId)) return;
    const job: ReconcileReplicaJob = { clusterId: node.clusterId, nodeId, follows };
    await this.jobs
      .add(QUEUES.failover, FAILOVER_JOBS.reconcileReplica, job, reconcileReplicaJobOptions(nodeId))
      .catch((err: Error) => this.logger.warn({ nodeId, err: err.message }, 'could not queue a replica reconciliation'));
  }

  /**
   * The reconciliation job: if the node still follows another node than the recorded master, and that
   * master is usable, point it there. Throws (to be retried) when this replica does not lead.
   */
  async reconcileReplica(job: ReconcileReplicaJob): Promise<'repointed' | 'nothing to do'> {
    if (!this.runs.leadership.isLeader()) throw new Error('not the leader: retried later (the leader acts)');
    const cluster = this.topology.snapshot.clustersById.get(job.clusterId);
    const node = cluster?.nodes.find((n) => n.id === job.nodeId);
    if (!cluster || !node || this.runs.isActive(cluster.id)) return 'nothing to do';
    const master = cluster.nodes.find((n) => n.role === 'master');
    if (!master || master.id === node.id) return 'nothing to do';
    if (!this.usableMaster(cluster)) throw new Error(`recorded master ${addr(master)} is not up as a master`);
    const probe = await probeReplication(nodeAddress(cluster, node), this.config.redisAdminTimeoutMs);
    if (!probe.ok) throw new Error(`${addr(node)} does not answer: ${probe.error}`);
    if (probe.info.role !== 'replica' || `${probe.info.masterHost}:${probe.info.masterPort}`.toLowerCase() === addr(master)) return 'nothing to do';
    const role = await followMaster(nodeAddress(cluster, node), master, this.config.redisAdminTimeoutMs);
    await this.runs.store.record({
      type: 'node.repointed',
      actor: this.runs.actor,
      cluster,
      data: { node: addr(node), followed: `${probe.info.masterHost}:${probe.info.masterPort}`, master: addr(master), epoch: cluster.epoch, role },
    });
    return 'repointed';
  }

  /** Demotes a node that claims master while the topology holds another node as master, if that one is usable. */
  private async demoteRogue(nodeId: string, runId: string | undefined, agent: string): Promise<void> {
    if (!this.runs.leadership.isLeader()) return;
    const node = this.topology.snapshot.nodesById.get(nodeId);
    const cluster = node && this.topology.snapshot.clustersById.get(node.clusterId);
    if (!node || !cluster || this.runs.isActive(cluster.id)) return;
    const master = this.usableMaster(cluster);
    if (!master || master.id === nodeId || !this.due(nodeId)) return; // nowhere safe to point it
    try {
      // The claim may come from a reading a few seconds old: act only on the node's own answer now.
      const probe = await probeReplication(nodeAddress(cluster, node), this.config.redisAdminTimeoutMs);
      if (!probe.ok || probe.info.role !== 'master') return;
      const role = await followMaster(nodeAddress(cluster, node), master, this.config.redisAdminTimeoutMs);
      await this.runs.store.record({
        type: 'node.demoted',
        actor: this.runs.actor,
        cluster,
        data: { node: addr(node), runId, seenBy: agent, master: addr(master), epoch: cluster.epoch, role },
      });
      this.logger.warn({ cluster: cluster.name, node: addr(node), master: addr(master) }, 'demoted a node claiming master');
    } catch (err) {
      this.logger.warn({ cluster: cluster.name, node: addr(node), err: (err as Error).message }, 'could not demote a node claiming master');
    }
  }

  /** The recorded master reports itself a replica: a fault, repaired when no other node claims master. */
  private async masterReportsReplica(r: { nodeId: string; follows: string; agent: string }): Promise<void> {
    if (!this.runs.leadership.isLeader()) return;
    const node = this.topology.snapshot.nodesById.get(r.nodeId);
    const cluster = node && this.topology.snapshot.clustersById.get(node.clusterId);
    if (!node || !cluster || node.role !== 'master' || this.runs.isActive(cluster.id) || !this.due(r.nodeId)) return;
    const timeout = this.config.redisAdminTimeoutMs;
    const probes = await Promise.all(cluster.nodes.map(async (n) => ({ node: n, probe: await probeReplication(nodeAddress(cluster, n), timeout) })));
    const self = probes.find((p) => p.node.id === node.id)!.probe;
    if (!self.ok || self.info.role !== 'replica') return; // gone, or master again: nothing to repair
    const claimants = probes.filter((p) => p.node.id !== node.id && p.probe.ok && p.probe.info.role === 'master').map((p) => addr(p.node));
    const data = { node: addr(node), follows: r.follows, seenBy: r.agent, epoch: cluster.epoch, otherMasters: claimants };
    const now = Date.now();
    this.decisions.fault(cluster.id, {
      type: 'master-reports-replica',
      node: addr(node),
      follows: r.follows,
      otherMasters: claimants,
      repair: claimants.length > 0 ? 'an operator decides: another node claims master' : 'REPLICAOF NO ONE',
    });
    if (claimants.length > 0) {
      if (now - (this.lastFault.get(node.id) ?? 0) < FAULT_REPEAT_MS) return;
      this.lastFault.set(node.id, now);
      await this.runs.store.record({
        type: 'master.reports_replica',
        actor: this.runs.actor,
        cluster,
        data: { ...data, repair: 'none: another node claims master (changed outside Vigil); an operator decides (switchover or forced failover)' },
      });
      return;
    }
    await this.runs.store.record({ type: 'master.reports_replica', actor: this.runs.actor, cluster, data: { ...data, repair: 'REPLICAOF NO ONE' } });
    try {
      const role = await promoteToMaster(nodeAddress(cluster, node), timeout);
      await this.runs.store.record({ type: 'master.repaired', actor: this.runs.actor, cluster, data: { node: addr(node), epoch: cluster.epoch, role } });
      this.decisions.repaired(cluster.id);
      this.logger.warn({ cluster: cluster.name, node: addr(node) }, 'the recorded master reported itself a replica with no other master: made master again');
    } catch (err) {
      this.logger.warn({ cluster: cluster.name, node: addr(node), err: (err as Error).message }, 'could not repair the recorded master');
    }
  }
}
