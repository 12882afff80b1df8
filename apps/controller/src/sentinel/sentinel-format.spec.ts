import { describe, expect, it } from 'vitest';
import { type InstanceFacts, type MasterFacts, masterFields, replicaFields } from './sentinel-format.js';

const node: InstanceFacts = {
  host: '10.0.0.1',
  port: 6379,
  runId: null,
  state: 'up',
  disconnected: false,
  stateSince: 0,
  lastOkAt: 0,
  infoReadAt: 0,
  roleReported: 'master',
  offset: 0,
  masterHost: null,
  masterPort: null,
  linkUp: true,
  linkDownSinceS: null,
  priority: 100,
};
const master: MasterFacts = {
  ...node,
  name: 'orders',
  epoch: 1,
  quorum: 2,
  downAfterMs: 1000,
  failoverTimeoutMs: 60_000,
  numSlaves: 1,
  numOtherSentinels: 0,
  failoverInProgress: false,
};
const flags = (fields: [string, string][]) => Object.fromEntries(fields)['flags'];

describe('Sentinel flags', () => {
  it('flags an instance its agents cannot reach as disconnected before it is s_down, as Sentinel flags a broken link', () => {
    expect(flags(masterFields(master, 0))).toBe('master');
    expect(flags(masterFields({ ...master, disconnected: true }, 0))).toBe('master,disconnected');
    expect(flags(masterFields({ ...master, state: 'odown', disconnected: true, failoverInProgress: true }, 0))).toBe(
      's_down,o_down,master,disconnected,failover_in_progress',
    );
    // Redis 7.0.15's Sentinel answered `s_down,slave,disconnected` for a killed replica.
    expect(flags(replicaFields({ ...node, state: 'sdown', disconnected: true }, node, 1000, 0))).toBe('s_down,slave,disconnected');
  });
});
