import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_ROLES } from '../libs/contracts/src/index.js';
import { SentinelService } from '../apps/controller/src/sentinel/sentinel.service.js';
import { type RedisServer, startReplicationGroup } from '../libs/testing/src/index.js';
import { AccessFixtures } from './support/access-fixtures.js';
import {
  admitted,
  askLine,
  createPrincipals,
  type DocumentedOperation,
  documentedOperations,
  openStream,
  PRINCIPALS,
  type PrincipalName,
  type Tokens,
} from './support/access-matrix.js';
import { type Api, freshDatabase, startTestController, type TestController } from './support/controller.js';
import { rawConnect } from './support/resp.js';

/**
 * Who may do what, written by hand for the routes where a mistake costs most. The matrix below takes
 * the expected answers from the document (`x-vigil-roles`), which is generated from the decorators the
 * guard enforces; this table catches a wrong decorator that changed both.
 */
const INTENDED: Record<string, string> = {
  'POST /api/v1/tokens': 'admin',
  'GET /api/v1/tokens': 'admin',
  'DELETE /api/v1/tokens/{id}': 'admin',
  'POST /api/v1/webhooks': 'admin',
  'GET /api/v1/webhooks': 'admin',
  'GET /api/v1/webhooks/{id}': 'admin',
  'DELETE /api/v1/webhooks/{id}': 'admin',
  'GET /api/v1/webhooks/{id}/deliveries': 'admin',
  'POST /api/v1/clusters': 'operator',
  'PATCH /api/v1/clusters/{name}': 'operator',
  'DELETE /api/v1/clusters/{name}': 'admin',
  'POST /api/v1/clusters/{name}/nodes': 'operator',
  'PATCH /api/v1/clusters/{name}/nodes/{nodeId}': 'operator',
  'DELETE /api/v1/clusters/{name}/nodes/{nodeId}': 'operator',
  'POST /api/v1/clusters/{name}/failover': 'operator',
  'POST /api/v1/clusters/{name}/switchover': 'operator',
  'PUT /api/v1/clusters/{name}/maintenance': 'operator',
  'DELETE /api/v1/clusters/{name}/maintenance': 'operator',
  'POST /api/v1/agents/register': 'agent',
  'POST /api/v1/agents/{name}/heartbeat': 'agent',
  // The assignment carries every cluster's Redis credentials.
  'GET /api/v1/agents/{name}/assignment': 'agent',
  'POST /api/v1/agents/{name}/reports': 'agent',
  'DELETE /api/v1/agents/{name}': 'admin',
  'GET /api/v1/events': 'viewer',
  'GET /api/v1/events/stream': 'viewer',
  'GET /api/v1/whoami': 'any',
};

const UNAUTHENTICATED: Record<string, string> = { anonymous: 'missing bearer token', revoked: 'invalid or revoked token', expired: 'token expired' };

describe('access-control matrix: every documented operation × every kind of caller', () => {
  let controller: TestController;
  let api: Api;
  let servers: RedisServer[] = [];
  let tokens: Tokens;
  let fixtures: AccessFixtures;
  const operations = documentedOperations();

  beforeAll(async () => {
    // Revoked tokens and wrong AUTHs are failed authentications: the limit is out of reach here (tested in auth-rate-limit.spec).
    controller = await startTestController(await freshDatabase(), { SENTINEL_PORT: '0', AUTH_FAILURE_LIMIT: '1000000' });
    api = controller.api;
    const principals = await createPrincipals(api);
    tokens = principals.tokens;
    servers = await startReplicationGroup(1);
    fixtures = new AccessFixtures(api, tokens.of.agent!);
    await fixtures.setUp(servers);
    await principals.expired();
  }, 60_000);

  afterAll(async () => {
    await controller?.close();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('documents who may call every operation, with the 401, 403 and 429 the guard can answer, as intended for the sensitive routes', () => {
    expect(operations.length).toBeGreaterThan(30);
    for (const op of operations) {
      expect(op.roles, `${op.key}: x-vigil-roles`).toEqual(expect.any(Array));
      expect(op.requiredRole, `${op.key}: x-required-role`).toMatch(/^(viewer|operator|admin|agent|any)$/);
      expect(op.statuses, op.key).toEqual(expect.arrayContaining([401, 429]));
      expect(op.statuses.includes(403), `${op.key}: 403 documented iff some role is refused`).toBe(op.roles!.length < TOKEN_ROLES.length);
    }
    const documented = Object.fromEntries(operations.map((op) => [op.key, op.requiredRole]));
    const intended = Object.fromEntries(Object.keys(INTENDED).map((key) => [key, documented[key] ?? 'not in openapi.json']));
    expect(intended).toEqual(INTENDED);
  });

  it('answers each caller as the document says: 401 without a working token, 403 below the role, the handler’s answer otherwise', async () => {
    const started = Date.now();
    const failures: string[] = [];
    let calls = 0;
    const statuses: Record<string, number> = {};

    const call = async (op: DocumentedOperation, principal: PrincipalName): Promise<void> => {
      const req = await fixtures.request(op, principal);
      const token = tokens.of[principal];
      let status: number;
      let body: any;
      let contentType: string | null = null;
      if (op.key === 'GET /api/v1/events/stream') {
        ({ status, body, contentType } = await openStream(`${controller.url}${req.url}`, token));
      } else {
        ({ status, body } = await api(op.method, req.url, { token, ...(req.body === undefined ? {} : { body: req.body }) }));
      }
      calls++;
      statuses[status] = (statuses[status] ?? 0) + 1;
      const where = `${op.method} ${req.url} as ${principal} → ${status} ${JSON.stringify(body)?.slice(0, 200)}`;
      if (!op.statuses.includes(status)) failures.push(`${where}: status not documented`);
      if (principal in UNAUTHENTICATED) {
        if (status !== 401 || body?.message !== UNAUTHENTICATED[principal]) failures.push(`${where}: expected 401 ${UNAUTHENTICATED[principal]}`);
      } else if (!admitted(op, principal)) {
        // The guard's refusal, not a handler's own check that happens to refuse this caller too.
        const refusal = `this action needs the ${op.requiredRole} role; the token has ${principal}`;
        if (status !== 403 || body?.error !== 'forbidden' || body?.message !== refusal) failures.push(`${where}: expected 403 ${refusal}`);
      } else {
        const ok = req.expect ? req.expect.includes(status) : (status >= 200 && status < 300) || status === 304;
        if (!ok) failures.push(`${where}: expected ${req.expect?.join(' or ') ?? 'success'} (document admits ${principal})`);
        if (contentType !== null && !contentType.startsWith('text/event-stream')) failures.push(`${where}: content type ${contentType}`);
        fixtures.spent(op);
      }
    };

    for (const op of operations) {
      // The refused callers at once (each must leave the resources as they were), then the admitted ones in turn.
      await Promise.all(PRINCIPALS.filter((p) => !admitted(op, p)).map((p) => call(op, p)));
      for (const principal of PRINCIPALS.filter((p) => admitted(op, p))) await call(op, principal);
    }
    console.log(
      `access matrix: ${operations.length} operations × ${PRINCIPALS.length} principals = ${calls} calls in ${Date.now() - started} ms; statuses ${JSON.stringify(statuses)}`,
    );
    expect(failures).toEqual([]);
    expect(calls).toBe(operations.length * PRINCIPALS.length);
  });

  it('runs the Sentinel endpoint’s operator commands only for operator and admin tokens (AUTH <token>)', async () => {
    const port = controller.app.get(SentinelService).port;
    const until = new Date(Date.now() + 3_600_000).toISOString();
    // In maintenance, an admitted SENTINEL FAILOVER is refused for that reason, after the role check, and nothing moves.
    expect((await api('PUT', `/api/v1/clusters/${fixtures.cluster}/maintenance`, { body: { until, reason: 'access matrix' } })).status).toBe(200);
    const epoch = (await api('GET', `/api/v1/clusters/${fixtures.cluster}`)).body.epoch;
    const commands: [string[], string][] = [
      [['SENTINEL', 'FAILOVER', fixtures.cluster], `-ERR cluster ${fixtures.cluster} is in maintenance until ${until}`],
      [['SENTINEL', 'SET', fixtures.cluster, 'quorum', '1'], "-ERR unknown subcommand 'SET'. Try SENTINEL HELP."],
      [['SENTINEL', 'REMOVE', fixtures.cluster], "-ERR unknown subcommand 'REMOVE'. Try SENTINEL HELP."],
      [['SENTINEL', 'MONITOR', 'other', '127.0.0.1', '6379', '1'], "-ERR unknown subcommand 'MONITOR'. Try SENTINEL HELP."],
      [['SENTINEL', 'RESET', '*'], ':0'],
      [['SENTINEL', 'FLUSHCONFIG'], "-ERR unknown subcommand 'FLUSHCONFIG'. Try SENTINEL HELP."],
      [['SENTINEL', 'CONFIG', 'SET', 'announce-port', '1'], "-ERR unknown subcommand 'CONFIG'. Try SENTINEL HELP."],
      [['SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', '127.0.0.1', '6379', '0', '*'], "-ERR unknown subcommand 'IS-MASTER-DOWN-BY-ADDR'. Try SENTINEL HELP."],
    ];
    const noperm = '-NOPERM this command requires an operator token: AUTH <token>';
    const failures: string[] = [];
    for (const principal of PRINCIPALS) {
      const c = await rawConnect(port);
      try {
        const token = tokens.of[principal];
        if (token !== null) {
          const auth = await askLine(c, 'AUTH', token);
          const accepted = principal === 'viewer' || principal === 'operator' || principal === 'admin';
          if ((auth === '+OK') !== accepted) failures.push(`AUTH as ${principal} → ${auth}`);
        }
        for (const [command, allowed] of commands) {
          const reply = await askLine(c, ...command);
          const expected = principal === 'operator' || principal === 'admin' ? allowed : noperm;
          if (reply !== expected) failures.push(`${command.join(' ')} as ${principal} → ${reply}, expected ${expected}`);
        }
      } finally {
        c.close();
      }
    }
    console.log(`Sentinel access: ${commands.length} operator commands × ${PRINCIPALS.length} principals = ${commands.length * PRINCIPALS.length} commands`);
    expect(failures).toEqual([]);
    expect((await api('GET', `/api/v1/clusters/${fixtures.cluster}`)).body.epoch).toBe(epoch);
    expect((await servers[1]!.role())[0]).toBe('master');
  });
});
