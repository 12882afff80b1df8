import { getMetadataArgsStorage } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { ClusterEntity } from './cluster.entity.js';
import { clusterInsert, type NewCluster, type NewNode } from './cluster-insert.js';
import { NodeEntity } from './node.entity.js';
import { DEFAULT_CLUSTER_SETTINGS } from './topology.service.js';

/** The database columns an entity declares, by TypeORM's own metadata. */
function columnsOf(target: object): string[] {
  return getMetadataArgsStorage()
    .columns.filter((c) => c.target === target)
    .map((c) => c.options.name ?? c.propertyName);
}

const cluster: NewCluster = {
  id: '00000000-0000-4000-8000-000000000001',
  name: 'orders',
  quorum: 2,
  downAfterMs: 5000,
  ...DEFAULT_CLUSTER_SETTINGS,
  dnsNames: ['orders.example.'],
  redisUsername: null,
  redisPasswordSealed: null,
  redisTls: false,
  epoch: 0,
  masterSince: null,
};
const node = (port: number): NewNode => ({
  id: `00000000-0000-4000-8000-00000000${port}`,
  clusterId: cluster.id,
  host: '10.0.0.1',
  port,
  role: 'unknown',
  priority: 100,
  zone: null,
  roleCheckedAt: null,
  roleEpoch: 0,
});

describe('clusterInsert', () => {
  it('writes every column the entities declare but the timestamps the database sets', () => {
    const { sql } = clusterInsert(cluster, [node(6379)], []);
    const listed = (table: string) => new RegExp(`INSERT INTO ${table} \\(([^)]*)\\)`).exec(sql)![1]!.split(', ');
    const generated = ['created_at', 'updated_at'];
    expect(listed('clusters').sort()).toEqual(
      columnsOf(ClusterEntity)
        .filter((c) => !generated.includes(c))
        .sort(),
    );
    expect(listed('nodes').sort()).toEqual(
      columnsOf(NodeEntity)
        .filter((c) => !generated.includes(c))
        .sort(),
    );
  });

  it('numbers one parameter per value, and writes events in the order given', () => {
    const events = [
      { type: 'cluster.created', actor: 'token:a', cluster, data: { n: 1 } },
      { type: 'cluster.roles_discovered', actor: 'controller:x', cluster },
    ];
    const { sql, params } = clusterInsert(cluster, [node(6379), node(6380)], events);
    const placeholders = [...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
    expect(placeholders).toEqual(params.map((_, i) => i + 1));
    expect(params.filter((p) => typeof p === 'string' && p.startsWith('cluster.'))).toEqual(['cluster.created', 'cluster.roles_discovered']);
    expect(params).toContain('{"n":1}');
    expect(params).toContain('{}');
  });

  it('writes the nodes in address order, whatever order they were given in (two creates sharing addresses cannot deadlock)', () => {
    const { params } = clusterInsert(cluster, [node(6381), node(6379), node(6380)], []);
    expect(params.filter((p) => typeof p === 'number' && p >= 6379 && p <= 6381)).toEqual([6379, 6380, 6381]);
  });

  it('leaves out the node and event parts when there are none', () => {
    const { sql } = clusterInsert(cluster, [], []);
    expect(sql).not.toMatch(/INSERT INTO nodes|INSERT INTO events/);
  });
});
