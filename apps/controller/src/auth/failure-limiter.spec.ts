import { describe, expect, it } from 'vitest';
import { clientKey, FailureLimiter } from './failure-limiter.js';

describe('clientKey', () => {
  it('counts an IPv4-mapped address as its IPv4 address and an IPv6 address by its /64', () => {
    expect(clientKey('10.1.2.3')).toBe('10.1.2.3');
    expect(clientKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(clientKey('2001:db8:aa:bb:1:2:3:4')).toBe('2001:db8:aa:bb::/64');
    expect(clientKey('2001:db8:aa:bb::9')).toBe(clientKey('2001:0db8:00aa:00bb:ffff::1'));
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});

describe('FailureLimiter', () => {
  it('blocks an address past the limit within the window, until enough failures age out', () => {
    const l = new FailureLimiter(3, 1000);
    expect([l.fail('a', 0), l.fail('a', 100), l.fail('a', 200)]).toEqual([false, false, false]);
    expect(l.blockedFor('a', 250)).toBe(0);
    expect(l.fail('a', 300)).toBe(true); // the fourth: blocked, and said once
    expect(l.fail('a', 350)).toBe(false);
    // 5 failures at 0,100,200,300,350: free again once only 3 remain in the window (at 1100).
    expect(l.blockedFor('a', 400)).toBe(700);
    expect(l.blockedFor('a', 1100)).toBe(0);
    expect(l.blockedFor('b', 400)).toBe(0);
  });

  it('tracks a bounded number of addresses, forgetting the least recently failing', () => {
    const l = new FailureLimiter(1, 10_000, 2);
    l.fail('a', 0);
    l.fail('a', 1);
    l.fail('b', 2);
    l.fail('b', 3);
    l.fail('c', 4);
    l.fail('c', 5);
    expect(l.blockedFor('a', 6)).toBe(0); // forgotten
    expect(l.blockedFor('b', 6)).toBeGreaterThan(0);
    expect(l.blockedFor('c', 6)).toBeGreaterThan(0);
  });
});
