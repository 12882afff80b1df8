import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { VIGIL_VERSION } from '../../../libs/contracts/src/index.js';
import { AGENT_CONFIG, type AgentConfig } from './config.js';
import { ControllerCallError, ControllerClient } from './controller-client.js';

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 10_000;

/** Exponential backoff with full jitter, capped. */
export function backoffMs(failures: number, random = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** Math.min(failures, 16));
  return Math.max(MIN_BACKOFF_MS, Math.round(ceiling * random()));
}

/**
 * Keeps the agent registered and heartbeating with every controller it knows, each on its own loop,
 * so one controller being down never delays the others. Nothing here can crash the process.
 */
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HeartbeatService.name);
  private readonly startedAt = Date.now();
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];

  constructor(@Inject(AGENT_CONFIG) private readonly config: AgentConfig) {}

  onApplicationBootstrap(): void {
    this.loops = this.config.controllerUrls.map((url) => this.run(new ControllerClient(url, this.config.token, this.config.requestTimeoutMs)));
  }

  async onApplicationShutdown(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  private async run(client: ControllerClient): Promise<void> {
    let registered = false;
    let intervalMs: number;
    let failures = 0;
    while (!this.abort.signal.aborted) {
      try {
        if (!registered) {
          const accepted = await client.register({ name: this.config.name, zone: this.config.zone, version: VIGIL_VERSION });
          intervalMs = accepted.heartbeatIntervalMs;
          registered = true;
          this.logger.log({ controller: client.baseUrl, agentId: accepted.id, heartbeatIntervalMs: intervalMs }, 'registered');
        } else {
          const ack = await client.heartbeat(this.config.name, { version: VIGIL_VERSION, uptimeMs: Date.now() - this.startedAt });
          intervalMs = ack.heartbeatIntervalMs;
        }
        if (failures > 0) this.logger.log({ controller: client.baseUrl, failures }, 'controller reachable again');
        failures = 0;
        await this.sleep(intervalMs);
      } catch (err) {
        failures++;
        const status = err instanceof ControllerCallError ? err.status : 0;
        if (status === 404) registered = false; // the controller forgot us: register again
        const level = err instanceof ControllerCallError && err.isConfigFault ? 'error' : failures === 1 ? 'warn' : 'debug';
        this.logger[level]({ controller: client.baseUrl, status, failures, err: (err as Error).message }, 'controller call failed');
        await this.sleep(backoffMs(failures));
      }
    }
  }

  /** Waits `ms`, or less if the agent shuts down; the listener is taken off the long-lived signal either way. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.abort.signal;
      const wake = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      signal.addEventListener('abort', wake, { once: true });
    });
  }
}
