import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { type INestApplication, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { CLUSTER_NAME_PATTERN, roleSatisfies } from '../../../../libs/contracts/src/index.js';
import { AuthService } from '../auth/auth.service.js';
import { routeAccess } from '../auth/route-access.js';
import { ErrorCode, VigilError } from '../common/errors.js';
import { errorHeaders, vigilErrorBody } from '../common/http-exception.filter.js';
import { flattenValidationErrors } from '../common/validation.js';
import { MetricsService } from '../observability/metrics.service.js';
import { DiscoveryController } from './discovery.controller.js';
import { MasterQueryDto } from './dto/master.dto.js';
import { MasterLookup } from './master-lookup.service.js';

const PATH = /^\/api\/v1\/clusters\/([^/?#]+)\/master(?:\?([^#]*))?$/;
const ROUTE_LABEL = '/api/v1/clusters/:name/master';
const BEARER = /^Bearer\s+(\S+)\s*$/i;
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
    void serve(req, res, match[1]!, match[2]);
  });

  async function serve(req: IncomingMessage, res: ServerResponse, rawName: string, search: string | undefined): Promise<void> {
    const stop = metrics.httpDuration.startTimer();
    const given = req.headers['x-request-id'];
    res.setHeader('X-Request-Id', typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID());
    const closed = new AbortController();
    const onClose = () => closed.abort();
    res.once('close', onClose);
    let status = 500;
    try {
      await authorize(req.headers.authorization, req.socket.remoteAddress);
      const name = clusterName(rawName);
      const query = search ? parseQuery(search) : {};
      const answer = await lookup.answer(name, query, header(req.headers['if-none-match']), closed.signal);
      status = answer.status;
      res.setHeader('ETag', answer.etag);
      res.setHeader('Cache-Control', 'no-cache');
      if (answer.warning !== undefined) res.setHeader('Warning', answer.warning);
      if (answer.body === undefined) {
        res.writeHead(answer.status).end();
      } else {
        const body = JSON.stringify(answer.body);
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(body);
      }
    } catch (err) {
      if (err instanceof VigilError) {
        const body = vigilErrorBody(err);
        status = body.statusCode;
        send(res, status, body, errorHeaders(status, err.retryAfterS));
      } else {
        const errorId = randomUUID();
        logger.error({ err, errorId, url: req.url }, 'unhandled error');
        send(res, 500, { statusCode: 500, error: ErrorCode.INTERNAL, message: 'internal error', errorId }, {});
      }
    } finally {
      res.off('close', onClose);
      metrics.httpRequests.inc({ method: 'GET', route: ROUTE_LABEL, status: String(status) });
      stop({ method: 'GET', route: ROUTE_LABEL });
    }
  }

  /** The same check as `AuthGuard` for the documented route. */
  async function authorize(authorization: string | undefined, address: string | undefined): Promise<void> {
    if (access.kind === 'public') return;
    const match = authorization ? BEARER.exec(authorization) : null;
    if (authorization && !match) throw new VigilError(ErrorCode.UNAUTHENTICATED, 'Authorization header must be "Bearer <token>"');
    const principal = await auth.authenticate(match?.[1], address);
    if (access.kind === 'role' && !roleSatisfies(principal.role, access.role)) {
      throw new VigilError(ErrorCode.FORBIDDEN, `this action needs the ${access.role} role; the token has ${principal.role}`);
    }
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

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) }).end(text);
}
