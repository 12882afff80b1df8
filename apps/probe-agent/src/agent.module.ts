import { type DynamicModule, Module } from '@nestjs/common';
import { AGENT_CONFIG, type AgentConfig } from './config.js';
import { AgentHttpService } from './agent-http.service.js';
import { AgentMetrics } from './agent-metrics.js';
import { HeartbeatService } from './heartbeat.service.js';
import { ProbeService } from './probe.service.js';

/** The probe agent: registration and heartbeats, the probe-and-report loop, its own health and metrics. */
@Module({})
export class AgentModule {
  static forRoot(config: AgentConfig): DynamicModule {
    return {
      module: AgentModule,
      providers: [{ provide: AGENT_CONFIG, useValue: Object.freeze(config) }, AgentMetrics, HeartbeatService, ProbeService, AgentHttpService],
    };
  }
}
