/**
 * Preloaded (`node --import`) into a process run under `--cpu-prof`: SIGTERM exits at once through
 * `process.exit`, so V8 writes the profile (a process killed by the signal itself writes none).
 */
process.on('SIGTERM', () => process.exit(0));

export {};
