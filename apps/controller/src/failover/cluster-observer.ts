import { Inject, Injectable } from '@nestjs/common';
import { probeReplication, readRole, type RedisNodeAddress } from '../../../../libs/redis-admin/src/index.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { DetectionService } from '../detection/detection.service.js';
import type { CachedCluster, CachedNode } from '../topology/topology-cache.service.js';
import { type CandidateInput, maxLinkDownMs, type Ranking, rankCandidates } from './candidate-ranking.js';
import { type MasterEvidence, masterEvidence } from './master-evidence.js';

/** How long the old master gets to answer the leader's probe (it is ODOWN: usually it does not; a hang must not stall the decision). */
export const OLD_MASTER_PROBE_MS = 200;

/** What the leader reads from a cluster's nodes at one moment: the candidates ranked and the master's own evidence. */
export interface ClusterObservation {
  at: number;
  inputs: CandidateInput[];
  ranking: Ranking;
  evidence: MasterEvidence | null;
  /** The old master answered the leader's probe (and with which role). */
  oldMaster: { answers: boolean; role?: string };
}

export function nodeAddress(cluster: CachedCluster, node: { host: string; port: number }): RedisNodeAddress {
  return { host: node.host, port: node.port, username: cluster.redis.username, password: cluster.redis.password, tls: cluster.redis.tls };
}

/**
 * Reads every node of a cluster in one parallel round: the old master only has to say whether it
 * answers (one ROLE, short timeout), the others their replication state (`INFO`). From that one round
 * come both the ranking and the master's own evidence, so asking for evidence costs no extra time.
 */
@Injectable()
export class ClusterObserver {
  constructor(
    private readonly detection: DetectionService,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
  ) {}

  /** `sdownSince`: when the master went down (staleness is measured from it, as Sentinel does). */
  async observe(cluster: CachedCluster, oldMaster: CachedNode | undefined, sdownSince?: number): Promise<ClusterObservation> {
    const timeout = this.config.redisAdminTimeoutMs;
    const [old, probes] = await Promise.all([
      oldMaster
        ? readRole(nodeAddress(cluster, oldMaster), Math.min(timeout, OLD_MASTER_PROBE_MS)).then(
            (r) => ({ answered: true as const, role: r.role }),
            (err: Error) => ({ answered: false as const, error: err.message }),
          )
        : undefined,
      Promise.all(
        cluster.nodes.filter((n) => n.id !== oldMaster?.id).map(async (n) => ({ node: n, probe: await probeReplication(nodeAddress(cluster, n), timeout) })),
      ),
    ]);
    const now = Date.now();
    const inputs: CandidateInput[] = probes.map(({ node, probe }) => ({
      id: node.id,
      host: node.host,
      port: node.port,
      priority: node.priority,
      detection: this.detection.nodeView(node.id, now).state,
      probe: probe.ok
        ? {
            ok: true as const,
            role: probe.info.role,
            offset: probe.info.role === 'replica' ? (probe.info.replicaReplOffset ?? probe.info.masterReplOffset) : probe.info.masterReplOffset,
            ...(probe.info.runId ? { runId: probe.info.runId } : {}),
            linkUp: probe.info.masterLinkStatus === undefined ? undefined : probe.info.masterLinkStatus === 'up',
            linkDownSinceS: probe.info.masterLinkDownSinceSeconds,
            syncInProgress: probe.info.syncInProgress,
            loading: probe.info.loading,
          }
        : { ok: false as const, error: probe.error },
    }));
    const ranking = rankCandidates(inputs, {
      maxLinkDownMs: maxLinkDownMs(now, sdownSince, cluster.downAfterMs),
      maxReplicaLagBytes: cluster.maxReplicaLagBytes,
    });
    const evidence =
      oldMaster && old
        ? masterEvidence({
            now,
            master: oldMaster,
            leaderProbe: old,
            replicas: probes.map(({ node, probe }) => ({
              host: node.host,
              port: node.port,
              probe: probe.ok
                ? {
                    ok: true as const,
                    role: probe.info.role,
                    masterHost: probe.info.masterHost,
                    masterPort: probe.info.masterPort,
                    linkUp: probe.info.masterLinkStatus === 'up',
                    lastIoS: probe.info.masterLastIoSeconds,
                  }
                : { ok: false as const, error: probe.error },
            })),
            agentsLastOkAt: this.detection.nodeView(oldMaster.id, now).lastOkAt ?? undefined,
            probeIntervalMs: this.probeIntervalMs(),
          })
        : null;
    return {
      at: now,
      inputs,
      ranking,
      evidence,
      oldMaster: old ? { answers: old.answered, ...(old.answered ? { role: old.role } : {}) } : { answers: false },
    };
  }

  private probeIntervalMs(): number {
    let max = 0;
    for (const agent of this.detection.engine.agents.values()) if (!agent.stale) max = Math.max(max, agent.intervalMs);
    return max || 500;
  }
}
