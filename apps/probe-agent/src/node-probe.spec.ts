import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseReplicationInfo } from '../../../libs/redis-admin/src/index.js';
import { classifyProbeError, NodeProbe, probeTimeoutMs, toObservation } from './node-probe.js';

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

describe('toObservation', () => {
  const replica = (io: string) =>
    parseReplicationInfo(
      `# Replication\r\nrole:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:6379\r\nmaster_link_status:up\r\nmaster_last_io_seconds_ago:${io}\r\nmaster_sync_in_progress:0\r\nslave_repl_offset:42\r\n`,
    );

  it("sends a replica's master_last_io_seconds_ago as lastIoS, -1 included", () => {
    expect(toObservation(replica('3'))).toEqual({
      role: 'replica',
      offset: 42,
      masterHost: '10.0.0.1',
      masterPort: 6379,
      linkUp: true,
      linkDownSinceS: undefined,
      lastIoS: 3,
    });
    expect(toObservation(replica('-1')).lastIoS).toBe(-1);
  });

  it('sends no lastIoS for a master', () => {
    const master = toObservation(parseReplicationInfo('# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_repl_offset:7\r\n'));
    expect(master).toEqual({ role: 'master', offset: 7, replicas: 0 });
    expect('lastIoS' in master).toBe(false);
  });
});

describe('NodeProbe against a node slow to answer its handshake', () => {
  const INFO = '# Replication\r\nrole:master\r\nconnected_slaves:0\r\n';
  it('waits for the first reply instead of reporting the node down while its handshake is pending', async () => {
    // Accepts at once, answers everything 150 ms late (as a farm of nodes does when thousands of probe
    // connections arrive together): well under the PING timeout for down-after 8000 ms (2 s).
    const server = createServer((socket) => {
      socket.on('data', (d) => {
        const replies = String(d)
          .split('*')
          .filter((c) => c.length > 0)
          .map((c) => (c.includes('PING') ? '+PONG\r\n' : c.includes('INFO') ? `$${INFO.length}\r\n${INFO}\r\n` : '+OK\r\n'));
        setTimeout(() => socket.write(replies.join('')), 150);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const probe = new NodeProbe(
      { id: 'n1', host: '127.0.0.1', port, tls: false, downAfterMs: 8000 },
      { intervalMs: 100, infoEveryMs: 1000, replRepeatMs: 5000 },
      'test',
    );
    try {
      const tick = setInterval(() => probe.tick(), 100);
      let first: ReturnType<NodeProbe['observe']>;
      for (let i = 0; i < 50 && first === undefined; i++) {
        await new Promise((r) => setTimeout(r, 20));
        first = probe.observe();
      }
      clearInterval(tick);
      expect(first).toMatchObject({ id: 'n1', st: 'ok' });
    } finally {
      probe.close();
      server.close();
    }
  });
});
