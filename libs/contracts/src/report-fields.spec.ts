import { describe, expect, it } from 'vitest';
import type { AgentReport } from './agent-api.js';
import { knownReportFields, OPTIONAL_REPORT_FIELDS, optionalKeysAt, reportWithFields } from './report-fields.js';

const report = (): AgentReport => ({
  seq: 1,
  assignment: 'v1',
  intervalMs: 100,
  lagMs: 0,
  nodes: [
    { id: 'a', st: 'ok', ago: 1, lat: 0.2 },
    { id: 'b', st: 'ok', ago: 1, repl: { role: 'replica', offset: 5, linkUp: true, lastIoS: 0, ageMs: 3 } },
    { id: 'c', st: 'ok', ago: 1, repl: { role: 'master', offset: 5, replicas: 1, ageMs: 3 } },
  ],
});

describe('optional report fields', () => {
  it('lists repl.lastIoS, the one field added after the baseline report', () => {
    expect(OPTIONAL_REPORT_FIELDS).toEqual(['repl.lastIoS']);
    expect(optionalKeysAt('repl', OPTIONAL_REPORT_FIELDS)).toEqual(['lastIoS']);
    expect(optionalKeysAt('node', OPTIONAL_REPORT_FIELDS)).toEqual([]);
  });

  it('keeps only the advertised fields this build knows, whatever the answer holds', () => {
    expect(knownReportFields(['repl.lastIoS', 'repl.future', 'repl.lastIoS', 7])).toEqual(['repl.lastIoS']);
    expect(knownReportFields(undefined)).toEqual([]);
    expect(knownReportFields('repl.lastIoS')).toEqual([]);
    expect(knownReportFields({ 0: 'repl.lastIoS' })).toEqual([]);
  });

  it('leaves the report untouched for a controller that accepts every field', () => {
    const r = report();
    expect(reportWithFields(r, new Set(OPTIONAL_REPORT_FIELDS))).toBe(r);
  });

  it('strips lastIoS for a controller that did not list it, copying only the entries that change', () => {
    const r = report();
    const baseline = reportWithFields(r, new Set());
    expect(baseline).not.toBe(r);
    expect(baseline.nodes[1]!.repl).toEqual({ role: 'replica', offset: 5, linkUp: true, ageMs: 3 });
    expect(baseline.nodes[0]).toBe(r.nodes[0]);
    expect(baseline.nodes[2]).toBe(r.nodes[2]);
    expect(r.nodes[1]!.repl!.lastIoS).toBe(0);
    expect(JSON.stringify(baseline)).not.toContain('lastIoS');
    const without = report();
    delete without.nodes[1]!.repl!.lastIoS;
    expect(reportWithFields(without, new Set())).toBe(without);
  });
});
