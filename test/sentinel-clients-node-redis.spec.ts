import { describeSentinelClients } from './support/sentinel-client-matrix.js';

// node-redis 5 and 6 use their Sentinel client (createSentinel); node-redis 4 has none, so it asks the
// endpoint for the master address and reconnects to the answer (libs/testing/src/sentinel-writers.ts).
describeSentinelClients('node-redis 4, 5 and 6 through Vigil’s Sentinel endpoint only', ['node-redis 4', 'node-redis 5', 'node-redis 6']);
