import type { Server } from 'node:http';
import { type BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/** How long a stopping controller lets HTTP requests in flight finish before the rest are cut. */
export const HTTP_DRAIN_MS = 1000;

/**
 * A stopping controller (SIGTERM, `app.close()`) drains before anything is cut: `/health/ready` answers
 * 503 `draining`, the HTTP server stops accepting and closes idle keep-alive connections, requests in
 * flight get up to `HTTP_DRAIN_MS` to be answered (parked master watches are answered at once by the
 * directory), and only then does Nest destroy what is left. The Sentinel endpoint and the DNS responder
 * stop listening in their own `beforeApplicationShutdown`, so clients move to another replica instead of
 * waiting on one that is going away.
 */
@Injectable()
export class ShutdownDrain implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ShutdownDrain.name);
  private drainingSince: number | undefined;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.drainingSince = Date.now();
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server?.listening) return;
    server.close();
    server.closeIdleConnections();
    const deadline = Date.now() + HTTP_DRAIN_MS;
    let open = await connections(server);
    while (open > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      server.closeIdleConnections();
      open = await connections(server);
    }
    this.logger.log({ drainedMs: Date.now() - this.drainingSince, cut: open }, 'HTTP drained');
  }
}

function connections(server: Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((err, count) => resolve(err ? 0 : count)));
}
