import { expect } from 'vitest';
import { type RedisServer, waitFor } from '../../libs/testing/src/index.js';
import type { DocumentedOperation, PrincipalName } from './access-matrix.js';
import type { Api } from './controller.js';

/** One call of the matrix: the path with its parameters filled in, a body, and the answers an admitted caller may get. */
export interface MatrixRequest {
  url: string;
  body?: unknown;
  /** Answers an admitted caller may get (default: any documented 2xx or 304). */
  expect?: number[];
}

type Fixture = (principal: PrincipalName) => Promise<{ params?: Record<string, string>; query?: Record<string, string>; body?: unknown; expect?: number[] }>;

/**
 * Real resources for every route of the API, so an admitted call would succeed: a cluster `am` on a
 * real primary and replica (with a switchover behind it), a scratch cluster of unreachable nodes for
 * node changes, a webhook, a registered agent. Destructive routes get a victim (a token, a cluster, a
 * node, a webhook, an agent) that is replaced once an admitted call has used it (`spent`), so no call
 * breaks a later one; a refused call must leave it intact, or its own row fails.
 */
export class AccessFixtures {
  readonly cluster = 'am';
  readonly scratch = 'am-scratch';
  failoverId = '';
  webhookId = '';
  private seq = 0;
  private victimAgentToken = '';
  private readonly fixtures: Record<string, Fixture>;
  private readonly victims = new Map<string, Promise<string>>();

  constructor(
    /** Calls as the bootstrap admin. */
    private readonly api: Api,
    private readonly agentToken: string,
  ) {
    const maintenance = () => ({ until: new Date(Date.now() + 3_600_000).toISOString(), reason: 'access matrix' });
    this.fixtures = {
      'POST /api/v1/tokens': async () => ({ body: { name: `am-new-${this.next()}`, role: 'viewer' } }),
      'DELETE /api/v1/tokens/{id}': async () => ({
        params: {
          id: await this.victim('token', async () => (await this.ok('POST', '/api/v1/tokens', { name: `am-victim-${this.next()}`, role: 'viewer' })).id),
        },
      }),
      'POST /api/v1/clusters': async () => ({ body: this.scratchCluster(`am-new-${this.next()}`) }),
      'PATCH /api/v1/clusters/{name}': async () => ({ body: { quorum: 1 } }),
      'DELETE /api/v1/clusters/{name}': async () => ({
        params: {
          name: await this.victim('cluster', async () => (await this.ok('POST', '/api/v1/clusters', this.scratchCluster(`am-del-${this.next()}`))).name),
        },
      }),
      'POST /api/v1/clusters/{name}/nodes': async () => ({ params: { name: this.scratch }, body: this.fakeNode() }),
      'PATCH /api/v1/clusters/{name}/nodes/{nodeId}': async () => ({
        params: { name: this.scratch, nodeId: await this.victim('node', () => this.scratchNode()) },
        body: { priority: 50 },
      }),
      'DELETE /api/v1/clusters/{name}/nodes/{nodeId}': async () => ({
        params: { name: this.scratch, nodeId: await this.victim('node', () => this.scratchNode()) },
      }),
      'GET /api/v1/failovers/{id}': async () => ({ params: { id: this.failoverId } }),
      // A dry run: authorised, it answers the candidates and changes nothing.
      'POST /api/v1/clusters/{name}/failover': async () => ({ query: { dryRun: 'true' }, body: {} }),
      // In maintenance (set again before each call), an admitted switchover is refused with 409 and nothing moves.
      'POST /api/v1/clusters/{name}/switchover': async () => {
        await this.ok('PUT', `/api/v1/clusters/${this.cluster}/maintenance`, maintenance());
        return { body: {}, expect: [409] };
      },
      'PUT /api/v1/clusters/{name}/maintenance': async () => ({ body: maintenance() }),
      'DELETE /api/v1/clusters/{name}/maintenance': async () => {
        await this.ok('PUT', `/api/v1/clusters/${this.cluster}/maintenance`, maintenance());
        return {};
      },
      'POST /api/v1/agents/register': async () => ({ body: { name: 'am-agent', zone: 'zone-a', version: '1' } }),
      'POST /api/v1/agents/{name}/heartbeat': async () => ({ params: { name: 'am-agent' }, body: { version: '1', uptimeMs: 1000 } }),
      'GET /api/v1/agents/{name}/assignment': async () => ({ params: { name: 'am-agent' } }),
      'POST /api/v1/agents/{name}/reports': async () => ({
        params: { name: 'am-agent' },
        body: { seq: this.next(), assignment: 'any', intervalMs: 1000, nodes: [] },
      }),
      'DELETE /api/v1/agents/{name}': async () => {
        const name = await this.victim('agent', async () => {
          const registered = await this.api('POST', '/api/v1/agents/register', {
            token: this.victimAgentToken,
            body: { name: 'am-victim', zone: 'zone-b', version: '1' },
          });
          expect(registered.status, registered.text).toBe(200);
          return 'am-victim';
        });
        return { params: { name } };
      },
      'POST /api/v1/webhooks': async () => ({ body: this.webhook() }),
      'DELETE /api/v1/webhooks/{id}': async () => ({
        params: { id: await this.victim('webhook', async () => (await this.ok('POST', '/api/v1/webhooks', this.webhook())).id) },
      }),
      'GET /api/v1/webhooks/{id}': async () => ({ params: { id: this.webhookId } }),
      'GET /api/v1/webhooks/{id}/deliveries': async () => ({ params: { id: this.webhookId } }),
    };
  }

  /** Builds the resources every call refers to. */
  async setUp(servers: RedisServer[]): Promise<void> {
    const created = await this.ok('POST', '/api/v1/clusters', {
      name: this.cluster,
      quorum: 1,
      downAfterMs: 5000,
      nodes: servers.map((s) => ({ host: s.host, port: s.port })),
    });
    expect(created.master?.port, 'the master discovered').toBe(servers[0]!.port);
    // The in-memory topology (which operator actions read) has the master once the lookup answers it.
    await waitFor(async () => (await this.api('GET', `/api/v1/clusters/${this.cluster}/master`)).status === 200, 15_000, 'the master lookup to answer');
    // One real failover record, for GET /failovers/{id} (operator actions run on the leader).
    await waitFor(async () => (await this.api('GET', '/api/v1/leadership')).body.leader === true, 10_000, 'the controller to lead');
    const switched = await this.api('POST', `/api/v1/clusters/${this.cluster}/switchover`, { body: { target: `${servers[1]!.host}:${servers[1]!.port}` } });
    expect(switched.status, switched.text).toBe(200);
    this.failoverId = switched.body.id;
    await this.ok('POST', '/api/v1/clusters', this.scratchCluster(this.scratch));
    this.webhookId = (await this.ok('POST', '/api/v1/webhooks', this.webhook())).id;
    const registered = await this.api('POST', '/api/v1/agents/register', { token: this.agentToken, body: { name: 'am-agent', zone: 'zone-a', version: '1' } });
    expect(registered.status, registered.text).toBe(200);
    this.victimAgentToken = (await this.ok('POST', '/api/v1/tokens', { name: 'am-victim-agent', role: 'agent' })).token;
  }

  /** The call for this operation and principal (resources prepared first, as the bootstrap admin). */
  async request(op: DocumentedOperation, principal: PrincipalName): Promise<MatrixRequest> {
    const fixture = this.fixtures[op.key];
    const given = fixture ? await fixture(principal) : {};
    const defaults: Record<string, string> = { name: op.path.startsWith('/api/v1/agents/') ? 'am-agent' : this.cluster };
    const url = op.path.replace(/\{(\w+)\}/g, (_, p: string) => {
      const value = given.params?.[p] ?? defaults[p];
      if (value === undefined) throw new Error(`${op.key}: no fixture gives the path parameter ${p}: add one to test/support/access-fixtures.ts`);
      return encodeURIComponent(value);
    });
    if (['POST', 'PUT', 'PATCH'].includes(op.method) && given.body === undefined) {
      throw new Error(`${op.key}: no fixture gives a body: add one to test/support/access-fixtures.ts`);
    }
    const query = new URLSearchParams(given.query ?? {});
    return { url: query.size ? `${url}?${query}` : url, body: given.body, expect: given.expect };
  }

  /** After an admitted call: a deleted victim is gone, the next call gets a new one. */
  spent(op: DocumentedOperation): void {
    if (op.method === 'DELETE') this.victims.clear();
  }

  /** The current victim of this kind (one creation, however many callers ask at once). */
  private victim(kind: string, create: () => Promise<string>): Promise<string> {
    let id = this.victims.get(kind);
    if (id === undefined) this.victims.set(kind, (id = create()));
    return id;
  }

  private next(): number {
    return ++this.seq;
  }

  /** A node nobody listens on (ports below 1024 on loopback are refused at once): unique, so never in use by another cluster. */
  private fakeNode(): { host: string; port: number } {
    return { host: '127.0.0.1', port: 600 + this.next() };
  }

  private scratchCluster(name: string) {
    return { name, quorum: 1, downAfterMs: 5000, nodes: [this.fakeNode()] };
  }

  private async scratchNode(): Promise<string> {
    return (await this.ok('POST', `/api/v1/clusters/${this.scratch}/nodes`, this.fakeNode())).id;
  }

  private webhook() {
    // Never delivered: the only type it takes is never written here (the failure limit is out of reach).
    return { url: `https://hooks.invalid/am-${this.next()}`, types: ['auth.rate_limited'] };
  }

  private async ok(method: string, path: string, body: unknown): Promise<any> {
    const res = await this.api(method, path, { body });
    expect(res.status, `${method} ${path} → ${res.text}`).toBeLessThan(300);
    return res.body;
  }
}
