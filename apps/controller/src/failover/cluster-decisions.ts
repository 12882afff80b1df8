import { Injectable } from '@nestjs/common';

/** The latest automatic decision about a cluster whose master is down (this replica's, as leader). */
export interface ClusterDecision {
  at: string;
  outcome: 'refused' | 'started';
  /** For a refusal: its code (`master-alive`, `no-safe-candidate`, `maintenance`, …) and reason. */
  code?: string;
  reason?: string;
  failoverId?: string;
  evidence?: Record<string, unknown>;
}

/** A fault of the group that is not a dead master (the recorded master reports itself a replica). */
export interface ClusterFault {
  type: 'master-reports-replica';
  since: string;
  lastSeenAt: string;
  node: string;
  follows: string;
  otherMasters: string[];
  repair: string;
}

/** A fault not seen again for this long is no longer shown (its reports stopped: the node is master again). */
const FAULT_FRESH_MS = 10_000;

/**
 * What the failover engine decided last for each cluster and the faults it sees, in memory, for
 * `GET /clusters/{name}/decision`: why Vigil acted or did not, at a glance (every decision is also an event).
 */
@Injectable()
export class ClusterDecisions {
  private readonly decisions = new Map<string, ClusterDecision>();
  private readonly faults = new Map<string, ClusterFault>();

  decided(clusterId: string, decision: Omit<ClusterDecision, 'at'>): void {
    this.decisions.set(clusterId, { at: new Date().toISOString(), ...decision });
  }

  /** The master is up again: no decision is pending. */
  clear(clusterId: string): void {
    this.decisions.delete(clusterId);
  }

  fault(clusterId: string, fault: Omit<ClusterFault, 'since' | 'lastSeenAt'>): void {
    const now = new Date().toISOString();
    const known = this.faults.get(clusterId);
    this.faults.set(clusterId, { ...fault, since: known?.node === fault.node ? known.since : now, lastSeenAt: now });
  }

  repaired(clusterId: string): void {
    this.faults.delete(clusterId);
  }

  view(clusterId: string): { decision: ClusterDecision | null; faults: ClusterFault[] } {
    const fault = this.faults.get(clusterId);
    const fresh = fault && Date.now() - Date.parse(fault.lastSeenAt) < FAULT_FRESH_MS ? [fault] : [];
    return { decision: this.decisions.get(clusterId) ?? null, faults: fresh };
  }
}
