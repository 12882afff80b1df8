import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// swc compiles with the decorator metadata Nest's DI and TypeORM need (settings from tsconfig.json).
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['apps/**/*.spec.ts', 'libs/**/*.spec.ts', 'test/**/*.spec.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['reflect-metadata'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 90_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
