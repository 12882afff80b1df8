import { isIP } from 'node:net';

/**
 * The limiter's key for a client address: an IPv4-mapped IPv6 address as its IPv4 address, and an IPv6
 * address by its /64 (one host owns a whole /64, and could otherwise rotate through it).
 */
export function clientKey(address: string): string {
  const bare = address.split('%')[0]!;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return mapped[1]!;
  if (isIP(bare) !== 6) return bare;
  const [head, tail] = bare.toLowerCase().split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

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
