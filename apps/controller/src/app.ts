import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import fastifyCompress from '@fastify/compress';
import { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { AppModule } from './app.module.js';
import { AuthService } from './auth/auth.service.js';
import { VigilError } from './common/errors.js';
import { HttpExceptionFilter, vigilErrorBody } from './common/http-exception.filter.js';
import { createValidationPipe } from './common/validation.js';
import { installJsonBodyParser } from './common/body-depth.js';
import { findConsoleDir, installConsole } from './console/console-static.js';
import { installFastMasterRoute } from './discovery/fast-master-route.js';
import type { ControllerConfig } from './config/config.js';
import { createPino, PinoLoggerService } from '../../../libs/logging/src/index.js';
import { MetricsService } from './observability/metrics.service.js';
import { applyApiPrefix, buildOpenApiDocument } from './openapi/openapi.js';

const REPORT_ROUTE = '/api/v1/agents/:name/reports';

/** Several requests per agent per second, and master lookups (clients may poll): logged only when they fail. */
const QUIET_ROUTES = /^\/api\/v1\/(agents\/[^/]+\/(reports|assignment|heartbeat)|clusters\/[^/]+\/master)(\?|$)/;
/** Never logged (scraped and probed all the time). */
const UNLOGGED = new Set(['/health/live', '/metrics']);
const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
/** Answers from this size on are compressed for clients that accept it. */
const COMPRESS_FROM_BYTES = 1024;

export interface ServedRoute {
  method: string;
  url: string;
}
const SERVED_ROUTES = new WeakMap<object, ServedRoute[]>();

/** Every route the app's Fastify instance was given (method and pattern), e.g. to check the OpenAPI document covers them. */
export function servedRoutes(app: object): readonly ServedRoute[] {
  return SERVED_ROUTES.get(app) ?? [];
}

/** The `X-Request-Id` a client sent when it is reasonable, else a new one. */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** The Fastify adapter with the controller's options: also used by `npm run openapi`. */
export function createHttpAdapter(config?: Pick<ControllerConfig, 'bodyLimitBytes'>, logger?: FastifyBaseLogger): FastifyAdapter {
  return new FastifyAdapter({
    ...(logger ? { loggerInstance: logger } : {}),
    // Requests are logged by the hooks below (quiet routes, levels by status), not by Fastify.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestIdOf,
    // The router's own refusals (a path that is not valid percent-encoding) answered in the API's error
    // shape; they come before any hook or Nest's error handling.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const body =
        error.code === 'FST_ERR_BAD_URL'
          ? vigilErrorBody(VigilError.validation([{ field: 'path', reason: 'is not a valid URL (bad percent-encoding)' }]))
          : vigilErrorBody(VigilError.validation([{ field: 'path', reason: error.message }]));
      reply.raw.setHeader('X-Request-Id', request.id);
      void reply.code(body.statusCode).type('application/json; charset=utf-8').send(body);
    },
    ...(config ? { bodyLimit: config.bodyLimitBytes } : {}),
    routerOptions: {
      // As Express routed: `/api/v1/clusters/` is `/api/v1/clusters`.
      ignoreTrailingSlash: true,
      // Express had no limit: an over-long name is refused by validation (400), not by the router (414).
      maxParamLength: 16 * 1024,
    },
  });
}

/**
 * Builds the controller application from a validated config: used by `main.ts` and the tests,
 * so both run the same wiring.
 */
export async function createControllerApp(config: ControllerConfig): Promise<NestFastifyApplication> {
  const pino = createPino(config.logLevel, 'vigil-controller');
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), createHttpAdapter(config, pino as FastifyBaseLogger), {
    logger: new PinoLoggerService(pino),
    bodyParser: false,
    abortOnError: false,
    // Agents keep connections busy several times a second: without this, close() could wait on them indefinitely.
    forceCloseConnections: true,
  });
  app.enableShutdownHooks();
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;

  installRequestHooks(fastify, app.get(MetricsService));

  const routes: ServedRoute[] = [];
  SERVED_ROUTES.set(app, routes);
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
    // Reports carry every watched node: they get their own, larger limit. Set on the route as Nest adds it.
    if (route.url === REPORT_ROUTE) route.bodyLimit = config.agentReportLimitBytes;
  });
  // Reports have their own validator, which does not recurse: the hot path skips the depth walk.
  installJsonBodyParser(fastify, { maxDepth: config.bodyMaxDepth, skipDepthCheck: (request) => request.routeOptions.url === REPORT_ROUTE });
  // Answers from 1 kB on are compressed for clients that accept it: large JSON (`GET /overview` and
  // `GET /clusters` are hundreds of kB), also the console's and the API docs' files. The event stream
  // writes its hijacked raw response (never through here); the master lookup's own route answers before Fastify.
  await app.register(fastifyCompress, { threshold: COMPRESS_FROM_BYTES, encodings: ['br', 'gzip'] });

  // The console's few files (`/`, `/index.html`, `/assets/*`); everything else is the API's.
  await installConsole(app, findConsoleDir(config.consoleDir));
  applyApiPrefix(app);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpExceptionFilter());

  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/openapi.json', customSiteTitle: 'Vigil API' });

  await app.init();
  installFastMasterRoute(app);
  await app.get(AuthService).seedAdminToken();
  return app;
}

/**
 * Request id, request logs and HTTP metrics. The id is set on the raw response, so answers that
 * bypass the reply (the event stream) carry it too. Metrics are labelled by the route's pattern,
 * `unmatched` for a request no route took.
 */
function installRequestHooks(fastify: FastifyInstance, metrics: MetricsService): void {
  // The principal the auth guard finds; declared so every request has the same shape.
  fastify.decorateRequest('principal', null);
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.raw.setHeader('X-Request-Id', request.id);
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
    const seconds = reply.elapsedTime / 1000;
    metrics.httpRequests.inc({ method: request.method, route, status: String(status) });
    metrics.httpDuration.observe({ method: request.method, route }, seconds);
    if (route === REPORT_ROUTE) metrics.reportRequests.observe(seconds);
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : QUIET_ROUTES.test(request.url) ? undefined : 'info';
    if (level !== undefined && !UNLOGGED.has(request.url)) {
      // Fastify's serializers: method, url, host, remote address and port; the status.
      request.log[level]({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
    }
    done();
  });
}
