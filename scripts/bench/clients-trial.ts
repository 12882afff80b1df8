import { type RedisServer, startReplicationGroup, waitFor } from '../../libs/testing/src/index.js';
import { type Endpoint, SENTINEL_CLIENTS, type SentinelClientName, type SentinelWriter, startSentinelWriter } from '../../libs/testing/src/sentinel-writers.js';
import { api, watchedByAgents } from './admin-api.js';
import { startSentinels } from './sentinels.js';

/** A client that has not written again this long after the crash is recorded as stuck. */
export const GIVE_UP_MS = 30_000;

export interface ClientOutage {
  client: SentinelClientName;
  /** Kill → first acknowledged write after it (ms), or null when the client had not written again within GIVE_UP_MS. */
  outageMs: number | null;
}

export interface ClientTrial {
  system: 'vigil' | 'sentinel';
  outages: ClientOutage[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every client of the matrix writes at once through `endpoints` (default options), then the master is
 * SIGKILLed; each client's outage is the time to its first acknowledged write after the kill.
 */
async function crashTrial(system: ClientTrial['system'], group: RedisServer[], endpoints: Endpoint[], name: string): Promise<ClientTrial> {
  const writers: SentinelWriter[] = [];
  try {
    for (const c of SENTINEL_CLIENTS) writers.push(await startSentinelWriter(c, endpoints, name, `w:${c.replace(' ', '-')}`));
    const started = Date.now();
    await waitFor(async () => writers.every((w) => w.firstAckAfter(started) !== undefined), 10_000, 'every client writing', 20);
    await sleep(500);
    const at = Date.now();
    group[0]!.signal('SIGKILL');
    // Only writes sent once the master is gone count: a reply already on its way at the kill is not a recovery.
    await group[0]!.process.exited;
    const gone = Date.now();
    await waitFor(async () => writers.every((w) => w.firstAckAfter(gone) !== undefined), GIVE_UP_MS, 'every client writing again', 20).catch(() => undefined);
    return {
      system,
      outages: writers.map((w) => {
        const ack = w.firstAckAfter(gone);
        return { client: w.client, outageMs: ack ? ack.at - at : null };
      }),
    };
  } finally {
    await Promise.all(writers.map((w) => w.stop()));
  }
}

/** One trial through Vigil's endpoint: a fresh group watched as `name` by the running controller and its agents. */
export async function vigilTrial(base: string, sentinelPort: number, name: string, downAfterMs: number): Promise<ClientTrial> {
  const group = await startReplicationGroup(2);
  try {
    await api(base, 'POST', '/api/v1/clusters', {
      name,
      nodes: group.map((s) => ({ host: s.host, port: s.port })),
      quorum: 2,
      downAfterMs,
    });
    await watchedByAgents(base, name);
    return await crashTrial('vigil', group, [{ host: '127.0.0.1', port: sentinelPort }], name);
  } finally {
    await Promise.all(group.map((s) => s.stop()));
    await api(base, 'DELETE', `/api/v1/clusters/${name}`).catch(() => undefined);
  }
}

/** One trial through three real Redis Sentinels (quorum 2) watching an identical fresh group. */
export async function sentinelTrial(downAfterMs: number): Promise<ClientTrial> {
  const group = await startReplicationGroup(2);
  const sentinels = await startSentinels(group[0]!, { name: 'm', count: 3, quorum: 2, downAfterMs, failoverTimeoutMs: 60_000, replicas: 2 });
  try {
    return await crashTrial(
      'sentinel',
      group,
      sentinels.ports.map((port) => ({ host: '127.0.0.1', port })),
      'm',
    );
  } finally {
    await sentinels.stop();
    await Promise.all(group.map((s) => s.stop()));
  }
}
