import { describe, expect, it } from 'vitest';
import type { DetectionTransition } from '../detection/detection-engine.js';
import type { MasterDirectory, MasterEntry } from '../discovery/master-directory.service.js';
import { SentinelEvents } from './sentinel-events.js';

const nodes = [
  { id: 'm', host: '10.0.0.1', port: 6379 },
  { id: 'r1', host: '10.0.0.2', port: 6379 },
  { id: 'r2', host: '10.0.0.3', port: 6380 },
];

function setup(masterId = 'm') {
  const m = nodes.find((n) => n.id === masterId)!;
  const entry: MasterEntry = { cluster: 'orders', clusterId: 'c', nodeId: m.id, host: m.host, port: m.port, epoch: 1, since: null };
  const directory = {
    get: (name: string) => (name === 'orders' ? entry : undefined),
    snapshot: { clustersByName: new Map([['orders', { nodes }]]) },
  } as unknown as MasterDirectory;
  const sent: [string, string][] = [];
  return { events: new SentinelEvents(directory, (c, p) => sent.push([c, p])), sent, entry };
}

function transition(nodeId: string, from: string, to: string): DetectionTransition {
  const node = { ...nodes.find((n) => n.id === nodeId)!, clusterId: 'c' };
  return {
    kind: 'node',
    node,
    cluster: { id: 'c', name: 'orders', quorum: 2, downAfterMs: 1000, nodes: [] },
    from: from as never,
    to: to as never,
    at: 0,
    votes: [],
    voters: 3,
    sdownVotes: 3,
    assigned: 3,
  };
}

describe('SentinelEvents', () => {
  it('maps detection transitions to ±sdown / ±odown with instance details', () => {
    const { events, sent } = setup();
    events.onTransition(transition('m', 'up', 'odown'));
    events.onTransition(transition('r2', 'up', 'sdown'));
    events.onTransition(transition('m', 'odown', 'up'));
    expect(sent).toEqual([
      ['+sdown', 'master orders 10.0.0.1 6379'],
      ['+odown', 'master orders 10.0.0.1 6379 #quorum 3/2'],
      ['+sdown', 'slave 10.0.0.3:6380 10.0.0.3 6380 @ orders 10.0.0.1 6379'],
      ['-odown', 'master orders 10.0.0.1 6379'],
      ['-sdown', 'master orders 10.0.0.1 6379'],
    ]);
  });

  it('maps the failover events of the log, and tracks failover_in_progress', () => {
    const { events, sent } = setup('r1');
    const ev = (type: string, data: Record<string, unknown>) => ({ id: '1', at: '', type, cluster: 'orders', actor: 'controller:x', data });
    const old = { host: '10.0.0.1', port: 6379 };
    const promoted = { host: '10.0.0.2', port: 6379 };
    events.onEvent(ev('failover.started', { epoch: 2, from: '10.0.0.1:6379' }));
    expect(events.inFailover('orders', old)).toBe(true);
    // As Sentinel, only the master the failover started from is flagged: once the master moved, the
    // new one is not (node-redis refuses a master flagged failover_in_progress).
    expect(events.inFailover('orders', promoted)).toBe(false);
    events.onEvent(ev('master.changed', { from: '10.0.0.1:6379', to: '10.0.0.2:6379' }));
    events.onEvent(ev('failover.succeeded', { from: '10.0.0.1:6379', to: '10.0.0.2:6379' }));
    events.onEvent(ev('node.demoted', { node: '10.0.0.1:6379', master: '10.0.0.2:6379' }));
    expect(events.inFailover('orders', old)).toBe(false);
    expect(sent).toEqual([
      ['+new-epoch', '2'],
      ['+try-failover', 'master orders 10.0.0.1 6379'],
      ['+promoted-slave', 'slave 10.0.0.2:6379 10.0.0.2 6379 @ orders 10.0.0.1 6379'],
      ['+slave-reconf-done', 'slave 10.0.0.3:6380 10.0.0.3 6380 @ orders 10.0.0.1 6379'],
      ['+failover-end', 'master orders 10.0.0.1 6379'],
      ['+convert-to-slave', 'slave 10.0.0.1:6379 10.0.0.1 6379 @ orders 10.0.0.2 6379'],
    ]);
  });

  it('announces a master move as +switch-master, then +slave for each replica of the new master', () => {
    const { events, sent, entry } = setup('r1');
    const previous = { ...entry, nodeId: 'm', host: '10.0.0.1', port: 6379, epoch: 0 };
    events.onMove({ cluster: 'orders', previous, current: entry });
    events.onMove({ cluster: 'orders', previous: null, current: entry });
    expect(sent).toEqual([
      ['+switch-master', 'orders 10.0.0.1 6379 10.0.0.2 6379'],
      ['+slave', 'slave 10.0.0.1:6379 10.0.0.1 6379 @ orders 10.0.0.2 6379'],
      ['+slave', 'slave 10.0.0.3:6380 10.0.0.3 6380 @ orders 10.0.0.2 6379'],
    ]);
  });
});
