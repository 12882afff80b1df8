import { describe, expect, it } from 'vitest';
import { reportValidator, validateReport } from './report-validation.js';

const ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const good = () => ({
  seq: 7,
  assignment: 'v1',
  intervalMs: 250,
  lagMs: 3,
  nodes: [
    { id: ID, st: 'ok', ago: 12, lat: 0.4 },
    {
      id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
      st: 'down',
      ago: 900,
      err: 'connect ECONNREFUSED',
      repl: { role: 'replica', offset: 10, masterHost: '10.0.0.1', masterPort: 6379, linkUp: false, linkDownSinceS: -1, ageMs: 5 },
    },
  ],
});

describe('validateReport', () => {
  it('accepts a well-formed report as is', () => {
    const body = good();
    expect(validateReport(body)).toEqual({ report: body });
  });

  it('names every bad field, down to nested ones', () => {
    const body: any = good();
    body.intervalMs = 5;
    body.nodes[0].st = 'dead';
    body.nodes[0].ago = -1;
    body.nodes[1].repl.role = 'primary';
    body.nodes[1].repl.masterPort = 70000;
    body.nodes[1].surprise = true;
    const { issues } = validateReport(body);
    expect(issues).toEqual([
      { field: 'intervalMs', reason: 'must be an integer between 10 and 60000' },
      { field: 'nodes[0].st', reason: 'must be one of ok, busy, down, auth' },
      { field: 'nodes[0].ago', reason: 'must be a number of milliseconds >= 0' },
      { field: 'nodes[1].surprise', reason: 'is not a known field' },
      { field: 'nodes[1].repl.role', reason: 'must be master or replica' },
      { field: 'nodes[1].repl.masterPort', reason: 'must be an integer between 0 and 65535' },
    ]);
  });

  it('refuses non-objects, missing arrays, duplicate and malformed ids', () => {
    expect(validateReport(null).issues).toEqual([{ field: 'body', reason: 'must be a JSON object' }]);
    expect(validateReport([]).issues).toEqual([{ field: 'body', reason: 'must be a JSON object' }]);
    expect(validateReport({ ...good(), nodes: 'all' }).issues).toEqual([{ field: 'nodes', reason: 'must be an array' }]);
    const dup = good();
    dup.nodes[1]!.id = ID;
    expect(validateReport(dup).issues).toEqual([{ field: 'nodes[1].id', reason: 'appears twice in the report' }]);
    expect(validateReport({ ...good(), nodes: [{ id: 'x', st: 'ok', ago: 0 }, 42] }).issues).toEqual([
      { field: 'nodes[0].id', reason: 'must be a node id (UUID)' },
      { field: 'nodes[1]', reason: 'must be an object' },
    ]);
  });

  it('accepts lastIoS from newer agents (-1 = unknown) and reports without it from older ones', () => {
    const body: any = good();
    body.nodes[1].repl.lastIoS = 2;
    expect(validateReport(body)).toEqual({ report: body });
    body.nodes[1].repl.lastIoS = -1;
    expect(validateReport(body).issues).toBeUndefined();
    delete body.nodes[1].repl.lastIoS;
    expect(validateReport(body).issues).toBeUndefined();
    for (const bad of [-2, 'soon', Number.POSITIVE_INFINITY, 1e12]) {
      body.nodes[1].repl.lastIoS = bad;
      expect(validateReport(body).issues).toEqual([{ field: 'nodes[1].repl.lastIoS', reason: 'must be a number of seconds >= -1' }]);
    }
  });

  it('accepts only the optional fields it advertises: with none, lastIoS is refused as the baseline controller refuses it', () => {
    const baseline = reportValidator([]);
    const body: any = good();
    expect(baseline(body)).toEqual({ report: body });
    body.nodes[1].repl.lastIoS = 2;
    expect(baseline(body).issues).toEqual([{ field: 'nodes[1].repl.lastIoS', reason: 'is not a known field' }]);
    expect(reportValidator(['repl.lastIoS'])(body)).toEqual({ report: body });
    // Still strict for anything else, with every optional field accepted.
    body.future = 1;
    body.nodes[1].repl.future = 1;
    expect(validateReport(body).issues).toEqual([
      { field: 'future', reason: 'is not a known field' },
      { field: 'nodes[1].repl.future', reason: 'is not a known field' },
    ]);
  });

  it('stops listing after twenty issues', () => {
    const nodes = Array.from({ length: 100 }, () => ({ id: 'nope', st: 'ok', ago: 0 }));
    expect(validateReport({ ...good(), nodes }).issues).toHaveLength(20);
  });
});
