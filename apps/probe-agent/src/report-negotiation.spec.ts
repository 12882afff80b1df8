import { describe, expect, it } from 'vitest';
import type { AgentReport, OptionalReportField } from '../../../libs/contracts/src/index.js';
import { fieldsAfter, reportBodies } from './report-negotiation.js';

const report: AgentReport = {
  seq: 3,
  assignment: 'v1',
  intervalMs: 100,
  nodes: [{ id: 'b', st: 'ok', ago: 1, repl: { role: 'replica', offset: 5, lastIoS: 1, ageMs: 3 } }],
};
const none = new Set<OptionalReportField>();
const all = new Set<OptionalReportField>(['repl.lastIoS']);

describe('report field negotiation (per controller link)', () => {
  it('sends the baseline to a controller that listed nothing and lastIoS to one that listed it', () => {
    const [old, current, again] = reportBodies(report, [{ fields: none }, { fields: all }, { fields: new Set(['repl.lastIoS'] as const) }]);
    expect(JSON.parse(old!).nodes[0].repl).toEqual({ role: 'replica', offset: 5, ageMs: 3 });
    expect(JSON.parse(current!).nodes[0].repl.lastIoS).toBe(1);
    expect(again).toBe(current);
  });

  it('starts at the baseline and follows each answer: an older controller (no reportFields) keeps the baseline', () => {
    expect(fieldsAfter(none, { accepted: { assignment: 'v1' } as { reportFields?: unknown } })).toBe(none);
    const upgraded = fieldsAfter(none, { accepted: { reportFields: ['repl.lastIoS', 'repl.unknown'] } });
    expect([...upgraded]).toEqual(['repl.lastIoS']);
    expect(fieldsAfter(upgraded, { accepted: { reportFields: ['repl.lastIoS'] } })).toBe(upgraded);
    expect(fieldsAfter(upgraded, { accepted: { reportFields: [] } }).size).toBe(0);
  });

  it('drops back to the baseline on a 400 (the controller may have been replaced by an older one), not on other failures', () => {
    expect(fieldsAfter(all, { refusedStatus: 400 }).size).toBe(0);
    for (const status of [0, 404, 429, 503]) expect(fieldsAfter(all, { refusedStatus: status })).toBe(all);
    expect(fieldsAfter(none, { refusedStatus: 400 })).toBe(none);
  });
});
