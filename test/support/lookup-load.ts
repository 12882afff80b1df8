import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';
import type { Redis } from 'ioredis';
import { sleep } from './detection-rig.js';

/**
 * How long a client waits for one controller before asking the next: resolv.conf's default (5 s). A test machine
 * whose two cores are shared by many processes can stall a live controller for a second or two.
 */
const TIMEOUT_MS = 5000;

/** One controller as a client with a list of endpoints sees it. */
export interface Endpoint {
  name: string;
  httpUrl: string;
  sentinelPort: number;
  dnsPort: number;
}

/** What a lookup channel measured. A lookup fails only when no controller gave the right answer. */
export interface ChannelCounts {
  lookups: number;
  /** The first controller asked did not answer right; the next one did. */
  fellBack: number;
  failed: number;
  /** A controller named another address as master: a client would have taken it. Must stay 0. */
  wrong: number;
  /** Answers that were not right, by controller and reason (for the report). */
  misses: Record<string, number>;
  /** When (ms since the loop started) the first 30 answers that were neither right nor a refused connection came. */
  odd: string[];
}

type Answer = { kind: 'ok' } | { kind: 'wrong'; got: string } | { kind: 'miss'; why: string };
type Ask = (endpoint: Endpoint, master: { host: string; port: number }) => Promise<Answer>;

function counts(): ChannelCounts {
  return { lookups: 0, fellBack: 0, failed: 0, wrong: 0, misses: {}, odd: [] };
}

function short(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; name?: unknown; cause?: { code?: unknown } };
  return String(e.cause?.code ?? e.code ?? e.message ?? err).slice(0, 60);
}

/** REST `GET /clusters/{name}/master`: right when 200 names the master (a stale-flagged answer counts as a miss). */
export function restAsk(cluster: string, token: string): Ask {
  return async (endpoint, master) => {
    try {
      const res = await fetch(`${endpoint.httpUrl}/api/v1/clusters/${cluster}/master`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const text = await res.text();
      if (res.status !== 200) return { kind: 'miss', why: `http ${res.status}` };
      const body = JSON.parse(text) as { host: string; port: number; stale?: boolean };
      if (body.host !== master.host || body.port !== master.port) return { kind: 'wrong', got: `${body.host}:${body.port}` };
      return body.stale ? { kind: 'miss', why: 'stale' } : { kind: 'ok' };
    } catch (err) {
      return { kind: 'miss', why: short(err) };
    }
  };
}

/** The built-in DNS: `_redis._tcp.<cluster>.<zone>` SRV must name the master's port (every node is on 127.0.0.1). */
export function dnsAsk(cluster: string, zone: string): Ask {
  const resolvers = new Map<number, Resolver>();
  return async (endpoint, master) => {
    let resolver = resolvers.get(endpoint.dnsPort);
    if (!resolver) {
      resolver = new Resolver({ timeout: TIMEOUT_MS, tries: 1 });
      resolver.setServers([`127.0.0.1:${endpoint.dnsPort}`]);
      resolvers.set(endpoint.dnsPort, resolver);
    }
    try {
      const srv = await resolver.resolveSrv(`_redis._tcp.${cluster}.${zone}`);
      if (srv.length !== 1 || srv[0]!.port !== master.port) return { kind: 'wrong', got: srv.map((r) => r.port).join(',') };
      return { kind: 'ok' };
    } catch (err) {
      return { kind: 'miss', why: short(err) };
    }
  };
}

/**
 * The Sentinel endpoint: `SENTINEL get-master-addr-by-name` on a new connection per lookup, as Sentinel clients
 * resolve the master (connect to one sentinel of the list, ask, move on when it fails).
 */
export function sentinelAsk(cluster: string): Ask & { close(): void } {
  const request = `*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$${Buffer.byteLength(cluster)}\r\n${cluster}\r\n`;
  const ask = (endpoint: Endpoint, master: { host: string; port: number }): Promise<Answer> =>
    new Promise((resolve) => {
      let text = '';
      const socket = connect({ host: '127.0.0.1', port: endpoint.sentinelPort });
      const finish = (answer: Answer) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(answer);
      };
      const timer = setTimeout(() => finish({ kind: 'miss', why: 'timeout' }), TIMEOUT_MS);
      socket.on('connect', () => socket.write(request));
      socket.on('error', (err) => finish({ kind: 'miss', why: short(err) }));
      socket.on('close', () => finish({ kind: 'miss', why: `closed after ${JSON.stringify(text)}` }));
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        const pair = /^\*2\r\n\$\d+\r\n([^\r]*)\r\n\$\d+\r\n(\d+)\r\n$/.exec(text);
        if (pair) {
          const [host, port] = [pair[1]!, Number(pair[2])];
          finish(host === master.host && port === master.port ? { kind: 'ok' } : { kind: 'wrong', got: `${host}:${port}` });
        } else if (/^(\*-1|\$-1|_)\r\n$/.test(text)) finish({ kind: 'miss', why: 'null' });
        else if (/^-[^\r]*\r\n$/.test(text)) finish({ kind: 'miss', why: text.trim().slice(0, 60) });
      });
    });
  return Object.assign(ask, { close: () => undefined });
}

/**
 * Asks the controllers in turn, as a client holding a list of endpoints does: the first (rotating, so both
 * carry load) and, when its answer is not right, the next. Runs until stopped.
 */
export function lookupLoop(endpoints: Endpoint[], master: () => { host: string; port: number }, ask: Ask, startedAt = Date.now(), pauseMs = 15) {
  const c = counts();
  let stopped = false;
  let turn = 0;
  const done = (async () => {
    while (!stopped) {
      const first = turn++ % endpoints.length;
      const expected = master();
      c.lookups++;
      let right = false;
      for (let i = 0; i < endpoints.length && !right; i++) {
        const endpoint = endpoints[(first + i) % endpoints.length]!;
        const answer = await ask(endpoint, expected);
        if (answer.kind === 'ok') {
          right = true;
          if (i > 0) c.fellBack++;
        } else {
          if (answer.kind === 'wrong') c.wrong++;
          const key = `${endpoint.name}: ${answer.kind === 'wrong' ? `wrong ${answer.got}` : answer.why}`;
          c.misses[key] = (c.misses[key] ?? 0) + 1;
          if (!/ECONNREFUSED/.test(key) && c.odd.length < 30) c.odd.push(`${Date.now() - startedAt} ${key}`);
        }
      }
      if (!right) {
        c.failed++;
        if (c.odd.length < 30) c.odd.push(`${Date.now() - startedAt} FAILED`);
      }
      await sleep(pauseMs);
    }
  })();
  return {
    counts: c,
    async stop(): Promise<ChannelCounts> {
      stopped = true;
      await done;
      return c;
    },
  };
}

/** Keeps INCRementing one key through `client`, counting acknowledged writes and errors (by message). */
export function writeLoop(client: Redis, key: string, pauseMs = 10) {
  const state = { acked: 0, errors: 0, lastValue: 0, byError: {} as Record<string, number> };
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      try {
        state.lastValue = await client.incr(key);
        state.acked++;
      } catch (err) {
        state.errors++;
        const k = short(err);
        state.byError[k] = (state.byError[k] ?? 0) + 1;
      }
      await sleep(pauseMs);
    }
  })();
  return {
    state,
    async stop() {
      stopped = true;
      await done;
      return state;
    },
  };
}
