import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { type INestApplication, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { CLUSTER_NAME_PATTERN } from '../../../../libs/contracts/src/index.js';
import { allows, assertAllowed, BEARER } from '../auth/auth.guard.js';
import { AuthService } from '../auth/auth.service.js';
import { routeAccess } from '../auth/route-access.js';
import { ErrorCode, VigilError } from '../common/errors.js';
import { errorHeaders, vigilErrorBody } from '../common/http-exception.filter.js';
import { flattenValidationErrors } from '../common/validation.js';
import { MetricsService } from '../observability/metrics.service.js';
import { DiscoveryController } from './discovery.controller.js';
import { MasterQueryDto } from './dto/master.dto.js';
import { type MasterAnswer, MasterLookup } from './master-lookup.service.js';

const PATH = /^\/api\/v1\/clusters\/([^/?#]+)\/master(?:\?([^#]*))?$/;
const ROUTE_LABEL = '/api/v1/clusters/:name/master';
const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Serves `GET /api/v1/clusters/{name}/master` in front of Fastify and Nest. Tools may poll the master
 * many thousand times a second; the full pipeline (Fastify's router and hooks, Nest's guard and
 * validation pipe) costs about 400 µs of CPU per request for about 7 µs of work. The answer is the same
 * as the documented Nest route's (`DiscoveryController`): the same `MasterLookup`, bearer-token check,
 * query validation, error shape, headers and metrics. Everything else goes to Fastify unchanged.
 */
export function installFastMasterRoute(app: INestApplication): void {
  const server = app.getHttpServer() as Server;
  const lookup = app.get(MasterLookup);
  const auth = app.get(AuthService);
  const metrics = app.get(MetricsService);
  const logger = new Logger('MasterRoute');
  // The documented route's own decorators, read as AuthGuard reads them: the two routes cannot disagree.
  const access = routeAccess(new Reflector(), DiscoveryController.prototype.master, DiscoveryController);
  const next = server.listeners('request') as Listener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const match = req.method === 'GET' && req.url !== undefined ? PATH.exec(req.url) : null;
    if (!match) {
      for (const listener of next) listener.call(server, req, res);
      return;
    }
    serve(req, res, match[1]!, match[2]);
  });
  // The route's metric series, labelled once.
  const duration = metrics.httpDuration.labels({ method: 'GET', route: ROUTE_LABEL });
  const counted = new Map<number, { inc(): void }>();
  const count = (status: number) => {
    let counter = counted.get(status);
    if (counter === undefined) counted.set(status, (counter = metrics.httpRequests.labels({ method: 'GET', route: ROUTE_LABEL, status: String(status) })));
    counter.inc();
  };

  /**
   * The common case — a token verified here within the cache's lifetime, no watch — is answered at once,
   * without a promise; anything else (a token to verify, a watch, an error) takes `serveAsync`.
   */
  function serve(req: IncomingMessage, res: ServerResponse, rawName: string, search: string | undefined): void {
    const started = performance.now();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    if (search === undefined && authorizedNow(req.headers.authorization)) {
      let status: number;
      try {
        const answer = lookup.answerNow(clusterName(rawName), header(req.headers['if-none-match']));
        status = answer.status;
        reply(res, requestId, answer);
      } catch (err) {
        status = fail(req, res, requestId, err);
      }
      count(status);
      duration.observe((performance.now() - started) / 1000);
      return;
    }
    void serveAsync(req, res, requestId, rawName, search).then((status) => {
      count(status);
      duration.observe((performance.now() - started) / 1000);
    });
  }

  async function serveAsync(req: IncomingMessage, res: ServerResponse, requestId: string, rawName: string, search: string | undefined): Promise<number> {
    const closed = new AbortController();
    const onClose = () => closed.abort();
    res.once('close', onClose);
    try {
      await authorize(req.headers.authorization, req.socket.remoteAddress);
      const name = clusterName(rawName);
      const query = search ? parseQuery(search) : {};
      const answer = await lookup.answer(name, query, header(req.headers['if-none-match']), closed.signal);
      reply(res, requestId, answer);
      return answer.status;
    } catch (err) {
      return fail(req, res, requestId, err);
    } finally {
      res.off('close', onClose);
    }
  }

  /** The error answer for `err` (its status returned), as the exception filter would give it. */
  function fail(req: IncomingMessage, res: ServerResponse, requestId: string, err: unknown): number {
    if (err instanceof VigilError) {
      const body = vigilErrorBody(err);
      send(res, body.statusCode, body, { ...errorHeaders(body.statusCode, err.retryAfterS), 'X-Request-Id': requestId });
      return body.statusCode;
    }
    const errorId = randomUUID();
    logger.error({ err, errorId, url: req.url }, 'unhandled error');
    send(res, 500, { statusCode: 500, error: ErrorCode.INTERNAL, message: 'internal error', errorId }, { 'X-Request-Id': requestId });
    return 500;
  }

  /** Whether the request may be answered without verifying its token (the route is public, or the token is cached with the role). */
  function authorizedNow(authorization: string | undefined): boolean {
    if (access.kind === 'public') return true;
    const match = authorization ? BEARER.exec(authorization) : null;
    const principal = match ? auth.cachedPrincipal(match[1]!) : undefined;
    return principal !== undefined && allows(principal, access);
  }

  /** The same check as `AuthGuard` for the documented route. */
  async function authorize(authorization: string | undefined, address: string | undefined): Promise<void> {
    if (access.kind === 'public') return;
    const match = authorization ? BEARER.exec(authorization) : null;
    if (authorization && !match) throw new VigilError(ErrorCode.UNAUTHENTICATED, 'Authorization header must be "Bearer <token>"');
    assertAllowed(await auth.authenticate(match?.[1], address), access);
  }
}

function clusterName(raw: string): string {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    name = raw;
  }
  if (!CLUSTER_NAME_PATTERN.test(name)) throw VigilError.validation([{ field: 'name', reason: 'must be a cluster name (DNS label)' }]);
  return name;
}

/** The query through the same DTO and rules as the global validation pipe (whitelist, no unknown fields). */
function parseQuery(search: string): { waitEpochAfter?: number; timeoutMs?: number } {
  const plain: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(search)) {
    const prior = plain[k];
    plain[k] = prior === undefined ? v : Array.isArray(prior) ? [...prior, v] : [prior, v];
  }
  const dto = plainToInstance(MasterQueryDto, plain);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) throw VigilError.validation(flattenValidationErrors(errors));
  return dto;
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

/** A lookup's answer, its headers in one `writeHead`. */
function reply(res: ServerResponse, requestId: string, answer: MasterAnswer): void {
  const headers = ['X-Request-Id', requestId, 'ETag', answer.etag, 'Cache-Control', 'no-cache'];
  if (answer.warning !== undefined) headers.push('Warning', answer.warning);
  if (answer.body === undefined) {
    res.writeHead(answer.status, headers).end();
    return;
  }
  const json = answer.json ?? JSON.stringify(answer.body);
  headers.push('Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(Buffer.byteLength(json)));
  res.writeHead(200, headers).end(json);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) }).end(text);
}
