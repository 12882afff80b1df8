import { readFileSync } from 'node:fs';
import { TOKEN_ROLES, type TokenRole } from '../../libs/contracts/src/index.js';
import { waitFor } from '../../libs/testing/src/index.js';
import type { Api } from './controller.js';
import { cmd, type RawConnection } from './resp.js';

/** Who calls: no header, each token role, and two admin tokens that must not work any more. */
export const PRINCIPALS = ['anonymous', 'revoked', 'expired', 'agent', 'viewer', 'operator', 'admin'] as const;
export type PrincipalName = (typeof PRINCIPALS)[number];

/** One operation of the OpenAPI document, with who may call it as the document says. */
export interface DocumentedOperation {
  method: string;
  path: string;
  key: string;
  requiredRole: string | undefined;
  roles: TokenRole[] | undefined;
  statuses: number[];
  queryParams: string[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** Every operation of the committed `openapi.json`, read at test time. */
export function documentedOperations(file = 'openapi.json'): DocumentedOperation[] {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as {
    paths: Record<string, Record<string, { responses: Record<string, unknown>; parameters?: { in: string; name: string }[]; [x: string]: unknown }>>;
  };
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => {
      const op = item[m]!;
      return {
        method: m.toUpperCase(),
        path,
        key: `${m.toUpperCase()} ${path}`,
        requiredRole: op['x-required-role'] as string | undefined,
        roles: op['x-vigil-roles'] as TokenRole[] | undefined,
        statuses: Object.keys(op.responses).map(Number),
        queryParams: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      };
    }),
  );
}

/** Whether the document lets this principal through the guard (anonymous, revoked and expired never). */
export function admitted(op: DocumentedOperation, principal: PrincipalName): boolean {
  return (TOKEN_ROLES as readonly string[]).includes(principal) && op.roles!.includes(principal as TokenRole);
}

export interface Tokens {
  /** The bearer token of each principal (null: no header). */
  of: Record<PrincipalName, string | null>;
  /** Every token's row id. */
  ids: Record<string, string>;
}

async function createToken(api: Api, name: string, role: TokenRole, expiresAt?: string): Promise<{ id: string; token: string }> {
  const res = await api('POST', '/api/v1/tokens', { body: { name, role, ...(expiresAt ? { expiresAt } : {}) } });
  if (res.status !== 201) throw new Error(`creating token ${name}: ${res.status} ${res.text}`);
  return res.body as { id: string; token: string };
}

/**
 * Creates one token per role through the API, an admin token that is then revoked and one that expires
 * (a 1.5 s lifetime, never used before it ends): `expired()` waits for the fact, a 401 "token expired".
 */
export async function createPrincipals(api: Api): Promise<{ tokens: Tokens; expired: () => Promise<void> }> {
  const expiring = await createToken(api, 'am-expired', 'admin', new Date(Date.now() + 1500).toISOString());
  const of = { anonymous: null, expired: expiring.token } as Record<PrincipalName, string | null>;
  const ids: Record<string, string> = { expired: expiring.id };
  for (const role of TOKEN_ROLES) {
    const t = await createToken(api, `am-${role}`, role);
    of[role] = t.token;
    ids[role] = t.id;
  }
  const revoked = await createToken(api, 'am-revoked', 'admin');
  if ((await api('GET', '/api/v1/whoami', { token: revoked.token })).status !== 200) throw new Error('the revoked token never worked');
  if ((await api('DELETE', `/api/v1/tokens/${revoked.id}`)).status !== 200) throw new Error('could not revoke am-revoked');
  of.revoked = revoked.token;
  ids['revoked'] = revoked.id;
  const expired = async () => {
    await waitFor(
      async () => {
        const res = await api('GET', '/api/v1/whoami', { token: expiring.token });
        return res.status === 401 && res.body?.message === 'token expired';
      },
      10_000,
      'the short-lived admin token to expire',
    );
  };
  return { tokens: { of, ids }, expired };
}

/** The SSE route stays open: only its status and headers are read, then the request is aborted. */
export async function openStream(url: string, token: string | null): Promise<{ status: number; contentType: string | null; body: any }> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: token === null ? {} : { authorization: `Bearer ${token}` }, signal: abort.signal });
  const contentType = res.headers.get('content-type');
  let body: unknown;
  if (res.status !== 200) body = await res.json().catch(() => undefined);
  abort.abort();
  await res.body?.cancel().catch(() => undefined);
  return { status: res.status, contentType, body };
}

/** Sends one command on a RESP connection and answers its one-line reply (`+…`, `-…` or `:…`). */
export async function askLine(c: RawConnection, ...args: string[]): Promise<string> {
  const from = c.received().length;
  c.send(cmd(...args));
  const text = await c.until((t) => t.length > from && t.endsWith('\r\n'), 10_000);
  return text.slice(from).trimEnd();
}
