import { existsSync } from 'node:fs';
import { type ManagedProcess, startProcess, waitFor } from '../../libs/testing/src/index.js';
import type { Api } from './controller.js';

const AGENT = 'dist/apps/probe-agent/src/main.js';

export interface AgentProcess {
  name: string;
  process: ManagedProcess;
}

/** Starts the built probe agent as a real process. */
export function startAgentProcess(name: string, zone: string, token: string, controllers: string, env: Record<string, string> = {}): AgentProcess {
  if (!existsSync(AGENT)) throw new Error('build output missing: run `npm run build` (npm test does it for you)');
  const proc = startProcess('node', [AGENT], {
    env: {
      ...process.env,
      VIGIL_CONTROLLER_URL: controllers,
      VIGIL_AGENT_TOKEN: token,
      VIGIL_AGENT_NAME: name,
      VIGIL_AGENT_ZONE: zone,
      LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'warn',
      ...env,
    },
  });
  return { name, process: proc };
}

export interface HealthAgentView {
  name: string;
  zone: string;
  ok: boolean;
  status: string;
  sdown: boolean;
  voting: boolean;
  stale: boolean;
  noReplyMs: number;
  error?: string;
}

export interface HealthNode {
  id: string;
  host: string;
  port: number;
  role: string;
  state: string;
  voters: number;
  sdownVotes: number;
  agents: HealthAgentView[];
}

export interface ClusterHealth {
  cluster: string;
  canDecide: boolean;
  healthyAgents: number;
  nodes: HealthNode[];
}

export async function health(api: Api, cluster: string): Promise<ClusterHealth> {
  const res = await api<ClusterHealth>('GET', `/api/v1/clusters/${cluster}/health`);
  if (res.status !== 200) throw new Error(`health of ${cluster}: ${res.status} ${res.text}`);
  return res.body;
}

/** Waits until every node of the cluster is `up` with `voters` agents voting. */
export function waitAllUp(api: Api, cluster: string, voters: number, timeoutMs = 15_000): Promise<ClusterHealth> {
  return waitFor(
    async () => {
      const h = await health(api, cluster);
      return h.nodes.every((n) => n.state === 'up' && n.voters === voters) ? h : undefined;
    },
    timeoutMs,
    `all nodes of ${cluster} up with ${voters} voting agents`,
    50,
  );
}

/**
 * Creates a cluster (quorum 2 of three agents, the given down-after, `extra` settings) and waits until
 * every node is up with three voting agents.
 */
export async function createWatchedCluster(
  api: Api,
  name: string,
  nodes: { host: string; port: number; priority?: number }[],
  downAfterMs: number,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const res = await api('POST', '/api/v1/clusters', { body: { name, nodes, quorum: 2, downAfterMs, ...extra } });
  if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${res.text}`);
  await waitAllUp(api, name, 3);
}

export interface EventItem {
  id: string;
  at: string;
  type: string;
  cluster: string | null;
  actor: string;
  data: any;
}

export async function events(api: Api, cluster: string, type?: string): Promise<EventItem[]> {
  const q = new URLSearchParams({ cluster, limit: '500', ...(type ? { type } : {}) });
  const res = await api<{ items: EventItem[] }>('GET', `/api/v1/events?${q}`);
  if (res.status !== 200) throw new Error(`events: ${res.status} ${res.text}`);
  return res.body.items;
}

export function waitForEvent(api: Api, cluster: string, type: string, timeoutMs: number, match: (e: EventItem) => boolean = () => true): Promise<EventItem> {
  return waitFor(async () => (await events(api, cluster, type)).find(match), timeoutMs, `event ${type} for ${cluster}`, 50);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
