import { describeSentinelClients } from './support/sentinel-client-matrix.js';

// Debian's python3-redis (redis-py 4.3), run by /usr/bin/python3 (VIGIL_PYTHON overrides).
describeSentinelClients('redis-py through Vigil’s Sentinel endpoint only', ['redis-py']);
