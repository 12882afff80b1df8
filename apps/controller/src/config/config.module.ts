import { type DynamicModule, Module } from '@nestjs/common';
import { CONTROLLER_CONFIG, type ControllerConfig } from './config.js';

/** Makes the validated, read-only config injectable everywhere as CONTROLLER_CONFIG. */
@Module({})
export class ConfigModule {
  static forRoot(config: ControllerConfig): DynamicModule {
    return { module: ConfigModule, global: true, providers: [{ provide: CONTROLLER_CONFIG, useValue: Object.freeze(config) }], exports: [CONTROLLER_CONFIG] };
  }
}
