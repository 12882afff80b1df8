import { type DynamicModule, Module } from '@nestjs/common';
import { AGENT_CONFIG, type AgentConfig } from './config.js';
import { HeartbeatService } from './heartbeat.service.js';

/** The probe agent. Probing itself joins here as its own provider. */
@Module({})
export class AgentModule {
  static forRoot(config: AgentConfig): DynamicModule {
    return { module: AgentModule, providers: [{ provide: AGENT_CONFIG, useValue: Object.freeze(config) }, HeartbeatService] };
  }
}
