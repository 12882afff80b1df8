import { Injectable } from '@nestjs/common';
import { DetectionService } from '../detection/detection.service.js';
import { LeadershipService } from '../leadership/leadership.service.js';
import type { CachedCluster } from '../topology/topology-cache.service.js';
import { type DecisionNow, decisionNow, type ViewedNode } from './decision-now.js';
import { autoFailoverContext } from './failover-policy.js';
import { FailoverStore } from './failover-store.js';

/**
 * Answers "would an automatic failover start now?" for `GET /clusters/{name}/decision`: detection's
 * views and leadership from memory, the failover history (cooldown, backoff, running) in one read of
 * PostgreSQL; nothing is probed and nothing is recorded.
 */
@Injectable()
export class DecisionNowService {
  constructor(
    private readonly detection: DetectionService,
    private readonly store: FailoverStore,
    private readonly leadership: LeadershipService,
  ) {}

  async evaluate(cluster: CachedCluster): Promise<DecisionNow> {
    // Answered even while PostgreSQL is unreachable (failsafe), when an operator needs it most.
    const history = await this.store.history(cluster.id).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    const now = Date.now();
    const capacity = this.detection.canDecide(cluster.id, now);
    const viewed = (n: CachedCluster['nodes'][number]): ViewedNode => ({
      id: n.id,
      host: n.host,
      port: n.port,
      priority: n.priority,
      view: this.detection.nodeView(n.id, now),
    });
    const master = cluster.nodes.find((n) => n.role === 'master');
    return decisionNow({
      now,
      cluster,
      master: master ? viewed(master) : null,
      others: cluster.nodes.filter((n) => n !== master).map(viewed),
      policy:
        history instanceof Error
          ? {
              unavailable: `PostgreSQL is unreachable (${history.message}): the failover history (a running failover, cooldown, backoff) cannot be read, and no automatic failover starts until it can`,
            }
          : autoFailoverContext(
              cluster,
              history,
              capacity.canDecide
                ? { canDecide: true }
                : { canDecide: false, cannotDecideReason: capacity.reason ?? 'detection cannot decide for this cluster' },
              now,
            ),
      leader: this.leadership.isLeader(),
    });
  }
}
