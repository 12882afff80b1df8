/**
 * Failed authentications per client address in a sliding window. Past `limit` failures within
 * `windowMs`, the address is blocked until its oldest counted failure leaves the window. Memory is
 * bounded: at most `maxAddresses` are tracked, the least recently failing dropped first.
 */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Records a failure; answers true when it is the one that blocks the address. */
  fail(address: string, now: number): boolean {
    const times = this.recent(address, now);
    times.push(now);
    // Re-inserted last: the map's order is least recently failing first.
    this.failures.delete(address);
    this.failures.set(address, times);
    if (this.failures.size > this.maxAddresses) this.failures.delete(this.failures.keys().next().value!);
    return times.length === this.limit + 1;
  }

  /** Milliseconds until the address may try again (0: it may now). */
  blockedFor(address: string, now: number): number {
    const times = this.recent(address, now);
    if (times.length <= this.limit) return 0;
    return times[times.length - this.limit - 1]! + this.windowMs - now;
  }

  private recent(address: string, now: number): number[] {
    const times = (this.failures.get(address) ?? []).filter((t) => t > now - this.windowMs);
    if (times.length === 0) this.failures.delete(address);
    else this.failures.set(address, times);
    return times;
  }
}
