import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/config.js';
import { createControllerApp } from './app.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const app = await createControllerApp(config);
  await app.listen(config.httpPort, config.httpHost);
  const url = await app.getUrl();
  console.log(JSON.stringify({ level: 30, time: Date.now(), msg: 'controller listening', controller: config.controllerName, url }));
}

main().catch((err: unknown) => {
  console.error(`controller failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
