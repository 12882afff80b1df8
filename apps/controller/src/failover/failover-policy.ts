/**
 * Whether an automatic failover may start now, as a pure function. Each refusal names its reason,
 * which becomes a `failover.refused` event: when unsure, do not fail over, and say why.
 */

export interface AutoFailoverContext {
  now: number;
  autoFailover: boolean;
  maintenanceUntil: number | null;
  cooldownMs: number;
  /** When the last failover of this cluster finished (any outcome), if any. */
  lastFailoverFinishedAt: number | null;
  /** A failover of this cluster is running. */
  running: boolean;
  /** Enough healthy agents watch the cluster. */
  canDecide: boolean;
}

export type Refusal = { code: 'auto_failover_off' | 'maintenance' | 'cooldown' | 'running' | 'cannot_decide'; reason: string };

export function autoFailoverRefusal(c: AutoFailoverContext): Refusal | undefined {
  if (c.running) return { code: 'running', reason: 'a failover of this cluster is already running' };
  if (!c.autoFailover) return { code: 'auto_failover_off', reason: 'automatic failover is off for this cluster' };
  if (c.maintenanceUntil !== null && c.maintenanceUntil > c.now) {
    return { code: 'maintenance', reason: `in maintenance until ${new Date(c.maintenanceUntil).toISOString()}` };
  }
  if (c.lastFailoverFinishedAt !== null && c.now - c.lastFailoverFinishedAt < c.cooldownMs) {
    const left = c.cooldownMs - (c.now - c.lastFailoverFinishedAt);
    return { code: 'cooldown', reason: `in cooldown for another ${Math.ceil(left / 1000)} s after the last failover` };
  }
  if (!c.canDecide) return { code: 'cannot_decide', reason: 'fewer healthy agents than quorum watch this cluster' };
  return undefined;
}
