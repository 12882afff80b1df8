import { describeSentinelClients } from './support/sentinel-client-matrix.js';

describeSentinelClients('ioredis 4, 5 and 6 through Vigil’s Sentinel endpoint only', ['ioredis 4', 'ioredis 5', 'ioredis 6']);
