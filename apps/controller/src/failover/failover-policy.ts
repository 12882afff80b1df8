/**
 * Whether an automatic failover may start now, as a pure function. Each refusal names its reason,
 * which becomes a `failover.refused` event: when unsure, do not fail over, and say why.
 */

export interface AutoFailoverContext {
  now: number;
  autoFailover: boolean;
  maintenanceUntil: number | null;
  cooldownMs: number;
  /** When the last *successful* failover of this cluster finished: cooldown starts after a success only. */
  lastSucceededAt: number | null;
  /** Automatic failovers that failed since the last success, and when the last one ended (retry backoff). */
  failuresSince: number;
  lastFailedAt: number | null;
  /** The first retry waits this long, each next one twice as long (at most `MAX_RETRY_BACKOFF_MS`). */
  retryBaseMs: number;
  /** A failover of this cluster is running. */
  running: boolean;
  /** Detection can decide for this cluster (enough usable agents); the reason when it cannot. */
  canDecide: boolean;
  cannotDecideReason?: string;
}

export const MAX_RETRY_BACKOFF_MS = 60_000;

export type RefusalCode = 'auto_failover_off' | 'maintenance' | 'cooldown' | 'running' | 'cannot_decide' | 'backoff' | 'master-alive' | 'no-safe-candidate';
export type Refusal = { code: RefusalCode; reason: string };

/** How long after the `failures`-th failed automatic failover the next try waits. */
export function retryBackoffMs(failures: number, baseMs: number): number {
  return failures <= 0 ? 0 : Math.min(MAX_RETRY_BACKOFF_MS, baseMs * 2 ** (failures - 1));
}

export function autoFailoverRefusal(c: AutoFailoverContext): Refusal | undefined {
  if (c.running) return { code: 'running', reason: 'a failover of this cluster is already running' };
  if (!c.autoFailover) return { code: 'auto_failover_off', reason: 'automatic failover is off for this cluster' };
  if (c.maintenanceUntil !== null && c.maintenanceUntil > c.now) {
    return { code: 'maintenance', reason: `in maintenance until ${new Date(c.maintenanceUntil).toISOString()}` };
  }
  if (c.lastSucceededAt !== null && c.now - c.lastSucceededAt < c.cooldownMs) {
    const left = c.cooldownMs - (c.now - c.lastSucceededAt);
    return { code: 'cooldown', reason: `in cooldown for another ${Math.ceil(left / 1000)} s after the last successful failover` };
  }
  if (c.lastFailedAt !== null) {
    const wait = retryBackoffMs(c.failuresSince, c.retryBaseMs);
    if (c.now - c.lastFailedAt < wait) {
      return { code: 'backoff', reason: `${c.failuresSince} failed attempt(s): next try in ${Math.ceil((wait - (c.now - c.lastFailedAt)) / 1000)} s` };
    }
  }
  if (!c.canDecide) return { code: 'cannot_decide', reason: c.cannotDecideReason ?? 'fewer usable agents than quorum watch this cluster' };
  return undefined;
}
