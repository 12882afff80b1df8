import { describe, expect, it } from 'vitest';
import { backoffMs } from './heartbeat.service.js';
import { reportRetryMs, reportTimeoutMs } from './probe.service.js';

describe('reportRetryMs (when an agent tries an unreachable controller again)', () => {
  it('never waits longer than one probe interval, however many reports failed', () => {
    for (const failures of [5, 20, 100]) {
      expect(reportRetryMs(failures, 500, () => 1)).toBe(500);
      expect(reportRetryMs(failures, 1000, () => 1)).toBe(1000);
    }
    // The heartbeats' backoff, by contrast, reaches 10 s.
    expect(backoffMs(20, () => 1)).toBe(10_000);
  });

  it('keeps the backoff below the cap and never goes under 250 ms', () => {
    expect(reportRetryMs(1, 500, () => 0)).toBe(250);
    expect(reportRetryMs(1, 100, () => 1)).toBe(250);
    expect(reportRetryMs(1, 2000, () => 0.5)).toBe(backoffMs(1, () => 0.5));
  });

  it('abandons a report after two intervals (1 s at least, the request timeout at most)', () => {
    expect(reportTimeoutMs(500, 2000)).toBe(1000);
    expect(reportTimeoutMs(800, 2000)).toBe(1600);
    expect(reportTimeoutMs(5000, 2000)).toBe(2000);
    expect(reportTimeoutMs(100, 2000)).toBe(1000);
  });
});
