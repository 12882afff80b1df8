import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createPino, PinoLoggerService } from '../../../libs/logging/src/index.js';
import { AgentModule } from './agent.module.js';
import { AgentConfigError, loadAgentConfig } from './config.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadAgentConfig();
  } catch (err) {
    if (err instanceof AgentConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = new PinoLoggerService(createPino(config.logLevel, 'vigil-agent'));
  const app = await NestFactory.createApplicationContext(AgentModule.forRoot(config), { logger });
  app.enableShutdownHooks();
  await app.init();
  logger.log({ name: config.name, zone: config.zone, controllers: config.controllerUrls }, 'probe agent started');
}

main().catch((err: unknown) => {
  console.error(`probe agent failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
