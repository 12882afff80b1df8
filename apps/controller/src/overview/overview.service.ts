import { Injectable } from '@nestjs/common';
import { DetectionService } from '../detection/detection.service.js';
import { ClusterDecisions } from '../failover/cluster-decisions.js';
import { LeadershipService } from '../leadership/leadership.service.js';
import { TopologyCache } from '../topology/topology-cache.service.js';
import { CLUSTER_HEALTH_LABELS, type ClusterHealthLabel } from './cluster-health-label.js';
import { clusterOverview, type OverviewItem } from './cluster-overview.js';
import { OverviewHistory } from './overview-history.service.js';

export interface Overview {
  generatedAt: string;
  leader: boolean;
  counts: Record<ClusterHealthLabel, number>;
  items: OverviewItem[];
}

/**
 * Every cluster at a glance, from this replica's memory: the topology snapshot, detection's node views,
 * the failover engine's decisions (the leader's; a standby has none) and the failover history kept by
 * `OverviewHistory`.
 */
@Injectable()
export class OverviewService {
  constructor(
    private readonly topology: TopologyCache,
    private readonly detection: DetectionService,
    private readonly decisions: ClusterDecisions,
    private readonly leadership: LeadershipService,
    private readonly history: OverviewHistory,
  ) {}

  async overview(): Promise<Overview> {
    const snapshot = this.topology.snapshot;
    const { failovers, reasons } = await this.history.current(snapshot);
    const now = Date.now();
    const view = (nodeId: string) => this.detection.nodeView(nodeId, now);
    const counts = Object.fromEntries(CLUSTER_HEALTH_LABELS.map((l) => [l, 0])) as Record<ClusterHealthLabel, number>;
    const items = [...snapshot.clusters]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((cluster) => {
        const capacity = this.detection.canDecide(cluster.id, now);
        const h = failovers.get(cluster.id);
        const item = clusterOverview({
          now,
          cluster,
          view,
          cannotDecideReason: capacity.canDecide ? null : (capacity.reason ?? 'detection cannot decide for this cluster'),
          decision: this.decisions.view(cluster.id).decision,
          running: h?.running ?? null,
          lastFinished: h?.lastFinished ?? null,
          maintenanceReason: reasons.get(cluster.id) ?? null,
        });
        counts[item.health]++;
        return item;
      });
    return { generatedAt: new Date(now).toISOString(), leader: this.leadership.isLeader(), counts, items };
  }
}
