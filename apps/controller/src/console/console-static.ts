import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';

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
 * Serves the console's static files at `/` (same origin as the API, so no CORS and no token in URLs).
 * Hashed assets are cached for a year; `index.html` is revalidated so a new release is picked up at
 * once. Anything that is not a console file falls through to the API's routes and their 404.
 */
export function installConsole(app: INestApplication, dir: string | undefined): void {
  const http = app.getHttpAdapter().getInstance() as express.Express;
  if (!dir) {
    http.get('/', (_req: Request, res: Response) => {
      res
        .status(404)
        .type('text/plain')
        .send('The console is not built: run `npm run build` (or set CONSOLE_DIR). The API is at /api/v1, its documentation at /api/docs.\n');
    });
    return;
  }
  const files = express.static(dir, {
    index: 'index.html',
    redirect: false,
    setHeaders(res, path) {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      if (path.endsWith('.html')) {
        res.setHeader('Cache-Control', 'no-cache');
        res.setHeader('Content-Security-Policy', CSP);
        res.setHeader('Referrer-Policy', 'no-referrer');
      } else {
        res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      }
    },
  });
  http.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path !== '/' && req.path !== '/index.html' && !req.path.startsWith('/assets/')) return next();
    return files(req, res, next);
  });
}
