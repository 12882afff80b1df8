import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SwaggerModule } from '@nestjs/swagger';
import express, { type NextFunction, type Request, type Response } from 'express';
import { pinoHttp } from 'pino-http';
import { AppModule } from './app.module.js';
import { AuthService } from './auth/auth.service.js';
import { HttpExceptionFilter } from './common/http-exception.filter.js';
import { createValidationPipe } from './common/validation.js';
import { bodyDepthLimit } from './common/body-depth.js';
import { findConsoleDir, installConsole } from './console/console-static.js';
import { installFastMasterRoute } from './discovery/fast-master-route.js';
import type { ControllerConfig } from './config/config.js';
import { createPino, PinoLoggerService } from '../../../libs/logging/src/index.js';
import { MetricsService } from './observability/metrics.service.js';
import { applyApiPrefix, buildOpenApiDocument } from './openapi/openapi.js';

const REPORT_ROUTE = '/api/v1/agents/:name/reports';
const REPORT_PATH = /^\/api\/v1\/agents\/[^/]+\/reports\/?$/;

/** Several requests per agent per second, and master lookups (clients may poll): logged only when they fail. */
const QUIET_ROUTES = /^\/api\/v1\/(agents\/[^/]+\/(reports|assignment|heartbeat)|clusters\/[^/]+\/master)(\?|$)/;

/**
 * Builds the controller application from a validated config: used by `main.ts` and the tests,
 * so both run the same wiring.
 */
export async function createControllerApp(config: ControllerConfig): Promise<INestApplication> {
  const pino = createPino(config.logLevel, 'vigil-controller');
  const app = await NestFactory.create(AppModule.forRoot(config), {
    logger: new PinoLoggerService(pino),
    bodyParser: false,
    abortOnError: false,
    // Agents keep connections busy several times a second: without this, close() could wait on them indefinitely.
    forceCloseConnections: true,
  });
  app.enableShutdownHooks();

  app.use(
    pinoHttp({
      logger: pino,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/health/live' || req.url === '/metrics' },
      customLogLevel: (req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : QUIET_ROUTES.test(req.url ?? '') ? 'silent' : 'info',
    }),
  );
  // Before the body parsers, so request timings include parsing.
  const metrics = app.get(MetricsService);
  app.use((req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const stop = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? (res.statusCode === 404 ? 'unmatched' : req.path);
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      stop({ method: req.method, route });
      if (route === REPORT_ROUTE) metrics.reportRequests.observe(Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  });

  // Reports carry every watched node: they get their own, larger limit.
  app.use(
    '/api/v1/agents/:name/reports',
    express.json({ limit: config.agentReportLimitBytes, strict: true, type: ['application/json', 'application/*+json'] }),
  );
  app.use(express.json({ limit: config.bodyLimitBytes, strict: true, type: ['application/json', 'application/*+json'] }));
  // Reports have their own validator, which does not recurse: the hot path skips this walk.
  const depthLimit = bodyDepthLimit(config.bodyMaxDepth);
  app.use((req: Request, res: Response, next: NextFunction) => (REPORT_PATH.test(req.path) ? next() : depthLimit(req, res, next)));

  // Before the API's routes: the console's few files are matched first, everything else falls through.
  installConsole(app, findConsoleDir(config.consoleDir));
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
