import { createServer, type Server } from 'node:http';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AgentMetrics } from './agent-metrics.js';
import { AGENT_CONFIG, type AgentConfig } from './config.js';
import { ProbeService } from './probe.service.js';

/**
 * The agent's own small HTTP surface on `AGENT_HTTP_PORT`: `/health/live`, `/health/ready` (an
 * assignment is loaded and a controller accepted a report recently) and `/metrics`.
 */
@Injectable()
export class AgentHttpService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AgentHttpService.name);
  private server: Server | undefined;

  constructor(
    @Inject(AGENT_CONFIG) private readonly config: AgentConfig,
    private readonly probes: ProbeService,
    private readonly metrics: AgentMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.httpPort === undefined) return;
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET' }).end();
      } else if (path === '/health/live') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
      } else if (path === '/health/ready') {
        const ready = this.probes.isReady();
        res
          .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: ready ? 'ok' : 'not ready', nodes: this.probes.watchedNodes }));
      } else if (path === '/metrics') {
        this.metrics.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
          () => res.writeHead(500).end(),
        );
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.httpPort, this.config.httpHost, () => resolve());
    });
    this.server = server;
    this.logger.log({ port: this.config.httpPort }, 'agent health and metrics listening');
  }

  async onApplicationShutdown(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
