import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * Where the built console is: `CONSOLE_DIR` when set, else `dist/console` in the nearest directory
 * above this file that holds `package.json` (the repository, or the image's `/app`), whether the
 * controller runs compiled from `dist/` or from source (tests). Undefined when it has not been built.
 */
export function findConsoleDir(configured: string | undefined): string | undefined {
  if (configured === 'off') return undefined;
  if (configured) return resolve(configured);
  for (let dir = HERE; dirname(dir) !== dir; dir = dirname(dir)) {
    if (!existsSync(join(dir, 'package.json'))) continue;
    const candidate = join(dir, 'dist', 'console');
    return existsSync(join(candidate, 'index.html')) ? candidate : undefined;
  }
  return undefined;
}

// The console loads nothing from elsewhere: scripts, styles and API calls are all same-origin.
const CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";

/**
 * Serves the console's static files at `/` (same origin as the API, so no CORS and no token in URLs):
 * `/`, `/index.html` and `/assets/*` only (GET and HEAD). Hashed assets are cached for a year;
 * `index.html` is revalidated so a new release is picked up at once. Anything else, a missing asset
 * included, goes to the API's routes and their 404.
 */
export async function installConsole(app: NestFastifyApplication, dir: string | undefined): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  if (!dir) {
    fastify.get('/', (_request, reply) => {
      void reply
        .code(404)
        .type('text/plain; charset=utf-8')
        .send('The console is not built: run `npm run build` (or set CONSOLE_DIR). The API is at /api/v1, its documentation at /api/docs.\n');
    });
    return;
  }
  await fastify.register(fastifyStatic, {
    root: dir,
    serve: false,
    // Cache-Control is set below, per kind of file.
    cacheControl: false,
    setHeaders(reply, path) {
      reply.header('X-Content-Type-Options', 'nosniff');
      if (path.endsWith('.html')) {
        reply.header('Cache-Control', 'no-cache');
        reply.header('Content-Security-Policy', CSP);
        reply.header('Referrer-Policy', 'no-referrer');
      } else {
        reply.header('Cache-Control', 'public, max-age=31536000, immutable');
      }
    },
  });
  const index = (_request: FastifyRequest, reply: FastifyReply) => reply.sendFile('index.html');
  fastify.get('/', index);
  fastify.get('/index.html', index);
  fastify.get('/assets/*', (request, reply) => reply.sendFile(`assets/${(request.params as { '*': string })['*']}`));
}
