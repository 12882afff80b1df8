/**
 * The observer: asks every node ROLE every 50 ms from the `app` host, which no scenario cuts from the
 * nodes (an out-of-band view, like Jepsen's control node). A node that does not answer within 45 ms
 * (paused, killed) counts as not writable in that round.
 */
import { Redis } from 'ioredis';
import type { RoleSample } from '../../libs/chaos/src/checker.js';
import type { Address } from './services.js';

const EVERY_MS = 50;

export interface Observer {
  readonly samples: RoleSample[];
  /** The node's latest answer. */
  latest(node: string): 'master' | 'slave' | undefined;
  stop(): Promise<void>;
}

export function startObserver(nodes: Address[]): Observer {
  const clients = nodes.map((n) => {
    const c = new Redis({
      host: n.host,
      port: n.port,
      commandTimeout: 45,
      connectTimeout: 200,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => 20,
    });
    c.on('error', () => undefined);
    return { key: `${n.host}:${n.port}`, c };
  });
  const samples: RoleSample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      const roles: RoleSample['roles'] = {};
      await Promise.all(
        clients.map(async ({ key, c }) => {
          try {
            const r = (await c.call('ROLE')) as unknown[];
            roles[key] = r[0] === 'master' ? 'master' : r[0] === 'slave' ? 'slave' : undefined;
          } catch {
            roles[key] = undefined;
          }
        }),
      );
      samples.push({ at, roles });
      const wait = at + EVERY_MS - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    samples,
    latest: (node) => samples.at(-1)?.roles[node],
    async stop() {
      stopped = true;
      await loop;
      for (const { c } of clients) c.disconnect();
    },
  };
}
