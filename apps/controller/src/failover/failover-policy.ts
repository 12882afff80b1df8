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

/** One guard of the policy, evaluated whether or not it passes (for a live "would it fail over now?"). */
export interface PolicyCheck {
  /** The refusal this guard gives when it does not pass. */
  code: RefusalCode;
  passed: boolean;
  /** Why it does not pass (the refusal's reason), or what it found when it does. */
  reason: string;
}

/**
 * Every guard of the policy, in the order they refuse: the first one that does not pass is the refusal
 * (`autoFailoverRefusal`).
 */
export function autoFailoverChecks(c: AutoFailoverContext): PolicyCheck[] {
  const inMaintenance = c.maintenanceUntil !== null && c.maintenanceUntil > c.now;
  const cooling = c.lastSucceededAt !== null && c.now - c.lastSucceededAt < c.cooldownMs;
  const wait = c.lastFailedAt !== null ? retryBackoffMs(c.failuresSince, c.retryBaseMs) : 0;
  const backingOff = c.lastFailedAt !== null && c.now - c.lastFailedAt < wait;
  return [
    {
      code: 'running',
      passed: !c.running,
      reason: c.running ? 'a failover of this cluster is already running' : 'no failover of this cluster is running',
    },
    {
      code: 'auto_failover_off',
      passed: c.autoFailover,
      reason: c.autoFailover ? 'automatic failover is on' : 'automatic failover is off for this cluster',
    },
    {
      code: 'maintenance',
      passed: !inMaintenance,
      reason: inMaintenance ? `in maintenance until ${new Date(c.maintenanceUntil!).toISOString()}` : 'not in maintenance',
    },
    {
      code: 'cooldown',
      passed: !cooling,
      reason: cooling
        ? `in cooldown for another ${Math.ceil((c.cooldownMs - (c.now - c.lastSucceededAt!)) / 1000)} s after the last successful failover`
        : c.lastSucceededAt === null
          ? 'no successful failover yet: no cooldown'
          : `cooldown over (the last successful failover ended ${new Date(c.lastSucceededAt).toISOString()})`,
    },
    {
      code: 'backoff',
      passed: !backingOff,
      reason: backingOff
        ? `${c.failuresSince} failed attempt(s): next try in ${Math.ceil((wait - (c.now - c.lastFailedAt!)) / 1000)} s`
        : c.failuresSince > 0
          ? `${c.failuresSince} failed attempt(s) since the last success; the retry is due`
          : 'no failed attempt since the last success',
    },
    {
      code: 'cannot_decide',
      passed: c.canDecide,
      reason: c.canDecide ? 'enough usable agents to decide' : (c.cannotDecideReason ?? 'fewer usable agents than quorum watch this cluster'),
    },
  ];
}

export function autoFailoverRefusal(c: AutoFailoverContext): Refusal | undefined {
  const failed = autoFailoverChecks(c).find((check) => !check.passed);
  return failed ? { code: failed.code, reason: failed.reason } : undefined;
}

/** The first retry after a failed automatic failover waits this long (then doubling): down-after, at least 2 s. */
export function retryBaseMs(downAfterMs: number): number {
  return Math.max(2000, downAfterMs);
}

/** What the policy reads of a cluster (the topology's `CachedCluster` has these fields). */
export interface PolicyCluster {
  autoFailover: boolean;
  maintenanceUntil: Date | null;
  cooldownMs: number;
  downAfterMs: number;
}

/** A cluster's failover history, as `FailoverStore.history` answers it. */
export interface PolicyHistory {
  running: unknown;
  lastSucceededAt: Date | null;
  failuresSince: number;
  lastFailedAt: Date | null;
}

/** The policy's input from the topology, the failover history and detection's capacity to decide. */
export function autoFailoverContext(
  cluster: PolicyCluster,
  history: PolicyHistory,
  decidable: { canDecide: boolean; cannotDecideReason?: string },
  now: number,
): AutoFailoverContext {
  return {
    now,
    autoFailover: cluster.autoFailover,
    maintenanceUntil: cluster.maintenanceUntil?.getTime() ?? null,
    cooldownMs: cluster.cooldownMs,
    lastSucceededAt: history.lastSucceededAt?.getTime() ?? null,
    failuresSince: history.failuresSince,
    lastFailedAt: history.lastFailedAt?.getTime() ?? null,
    retryBaseMs: retryBaseMs(cluster.downAfterMs),
    running: history.running !== null && history.running !== undefined,
    ...decidable,
  };
}
