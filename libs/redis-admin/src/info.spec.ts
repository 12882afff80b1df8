import { describe, expect, it } from 'vitest';
import { parseInfo, parseReplicationInfo } from './info.js';

const MASTER = `# Server\r\nredis_version:7.0.15\r\nrun_id:abc123\r\n\r\n# Replication\r\nrole:master\r\nconnected_slaves:2\r\nslave0:ip=10.0.0.2,port=6380,state=online,offset=1234,lag=0\r\nslave1:ip=10.0.0.3,port=6381,state=wait_bgsave,offset=0,lag=1\r\nmaster_replid:x\r\nmaster_repl_offset:1234\r\n`;
const REPLICA = `# Replication\nrole:slave\nmaster_host:10.0.0.1\nmaster_port:6379\nmaster_link_status:down\nmaster_link_down_since_seconds:7\nslave_repl_offset:999\nslave_priority:50\nmaster_repl_offset:999\n`;

describe('parseInfo', () => {
  it('splits sections and keys, ignoring blank lines and headers', () => {
    const s = parseInfo(MASTER);
    expect(s['server']?.['redis_version']).toBe('7.0.15');
    expect(s['replication']?.['connected_slaves']).toBe('2');
  });
});

describe('parseReplicationInfo', () => {
  it('reads a master with its replicas', () => {
    const info = parseReplicationInfo(MASTER);
    expect(info.role).toBe('master');
    expect(info.runId).toBe('abc123');
    expect(info.masterReplOffset).toBe(1234);
    expect(info.connectedReplicas).toEqual([
      { host: '10.0.0.2', port: 6380, state: 'online', offset: 1234, lagS: 0 },
      { host: '10.0.0.3', port: 6381, state: 'wait_bgsave', offset: 0, lagS: 1 },
    ]);
  });

  it('reads a replica with a broken link', () => {
    const info = parseReplicationInfo(REPLICA);
    expect(info).toMatchObject({
      role: 'replica',
      masterHost: '10.0.0.1',
      masterPort: 6379,
      masterLinkStatus: 'down',
      masterLinkDownSinceSeconds: 7,
      replicaReplOffset: 999,
      replicaPriority: 50,
    });
  });

  it('rejects text that is not INFO output', () => {
    expect(() => parseReplicationInfo('-ERR nope')).toThrow(/no usable role/);
  });
});
