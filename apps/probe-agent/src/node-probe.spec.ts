import { describe, expect, it } from 'vitest';
import { classifyProbeError, probeTimeoutMs } from './node-probe.js';

describe('classifyProbeError', () => {
  it('counts -LOADING and -MASTERDOWN as valid replies, as Sentinel does', () => {
    expect(classifyProbeError(new Error('LOADING Redis is loading the dataset in memory')).st).toBe('busy');
    expect(classifyProbeError(new Error('MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no')).st).toBe('busy');
  });

  it('reports refused credentials as a configuration fault', () => {
    expect(classifyProbeError(new Error('NOAUTH Authentication required.')).st).toBe('auth');
    expect(classifyProbeError(new Error('WRONGPASS invalid username-password pair or user is disabled.')).st).toBe('auth');
    expect(classifyProbeError(new Error("NOPERM User probe has no permissions to run the 'ping' command")).st).toBe('auth');
  });

  it('calls everything else down, with a short reason', () => {
    const r = classifyProbeError(new Error(`connect ECONNREFUSED 127.0.0.1:6379 ${'x'.repeat(300)}`));
    expect(r.st).toBe('down');
    expect(r.err.length).toBe(120);
    expect(classifyProbeError('socket hang up').st).toBe('down');
  });
});

describe('probeTimeoutMs', () => {
  it('is a quarter of down-after, between 100 ms and 2 s', () => {
    expect(probeTimeoutMs(100)).toBe(100);
    expect(probeTimeoutMs(1000)).toBe(250);
    expect(probeTimeoutMs(5000)).toBe(1250);
    expect(probeTimeoutMs(60_000)).toBe(2000);
  });
});
