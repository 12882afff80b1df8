/**
 * The checker's arithmetic (pure): from the writers' histories and the observer's ROLE samples, the
 * figures of one trial. Lost writes themselves are counted by reading every acknowledged key back from
 * the final master (the runner does that I/O); everything else is derived here.
 */

export interface WriteRecord {
  key: string;
  start: number;
  end: number;
  /** ok: acknowledged; failed: refused or never sent; unknown: sent, no answer (indeterminate). */
  outcome: 'ok' | 'failed' | 'unknown';
  /** `host:port` the write went to, when the client exposes it. */
  node?: string;
  error?: string;
}

/** One observer round: every node's answer to ROLE (undefined: no answer in time). */
export interface RoleSample {
  at: number;
  roles: Record<string, 'master' | 'slave' | undefined>;
}

export interface Promotion {
  node: string;
  /** The first sample that saw it master. */
  at: number;
}

/**
 * Nodes that turned master after having been seen as a replica, in order. A node seen master again
 * after silence (a restarted or resumed old master) is not a promotion: it never became a replica.
 */
export function promotions(samples: RoleSample[]): Promotion[] {
  const last = new Map<string, 'master' | 'slave'>();
  const out: Promotion[] = [];
  for (const s of samples) {
    for (const [node, role] of Object.entries(s.roles)) {
      if (role === undefined) continue;
      if (role === 'master' && last.get(node) === 'slave') out.push({ node, at: s.at });
      last.set(node, role);
    }
  }
  return out;
}

/** Milliseconds during which at least two nodes answered ROLE master (each sample counts until the next). */
export function splitBrainMs(samples: RoleSample[]): number {
  let total = 0;
  for (let i = 0; i + 1 < samples.length; i++) {
    const masters = Object.values(samples[i]!.roles).filter((r) => r === 'master').length;
    if (masters >= 2) total += samples[i + 1]!.at - samples[i]!.at;
  }
  return total;
}

/**
 * Acknowledged writes that a deposed master took: the node acknowledging had been the master (the original
 * one, or promoted since) and another node had been promoted after it. A replica's acknowledgements just
 * before the observer's next sample shows it promoted are not counted: it was never deposed.
 */
export function deposedAcks(writes: WriteRecord[], promoted: Promotion[], originalMaster: string): number {
  let n = 0;
  for (const w of writes) {
    if (w.outcome !== 'ok' || w.node === undefined) continue;
    const reigns = [{ node: originalMaster, at: -Infinity }, ...promoted].filter((p) => p.at <= w.end);
    const legit = reigns.at(-1)!.node;
    if (w.node !== legit && reigns.some((p) => p.node === w.node)) n++;
  }
  return n;
}

/** The longest time without an acknowledged write (by acknowledgement time) between `from` and `to`. */
export function longestGap(writes: WriteRecord[], from: number, to: number): number {
  const acks = writes
    .filter((w) => w.outcome === 'ok' && w.end >= from && w.end <= to)
    .map((w) => w.end)
    .sort((a, b) => a - b);
  let gap = 0;
  let prev = from;
  for (const t of acks) {
    gap = Math.max(gap, t - prev);
    prev = t;
  }
  return Math.max(gap, to - prev);
}

/** Whether the scenario's expectation was met, given the promotions seen. */
export function judge(expect: 'failover' | 'no-failover' | 'either', failovers: number): { falseFailover: boolean; missedFailover: boolean } {
  return { falseFailover: expect === 'no-failover' && failovers > 0, missedFailover: expect === 'failover' && failovers === 0 };
}

/** Bucket width of `lostWindowMs`. */
export const LOST_BUCKET_MS = 10;

/**
 * How much time's worth of acknowledged writes was lost: the number of 10 ms intervals in which a write that
 * was acknowledged and later found missing was acknowledged, times 10. Unlike a count of lost writes, it does
 * not depend on how fast a client writes, so clients and systems that write at different rates compare.
 */
export function lostWindowMs(writes: WriteRecord[], lost: Set<string>): number {
  const buckets = new Set<number>();
  for (const w of writes) if (w.outcome === 'ok' && lost.has(w.key)) buckets.add(Math.floor(w.end / LOST_BUCKET_MS));
  return buckets.size * LOST_BUCKET_MS;
}
