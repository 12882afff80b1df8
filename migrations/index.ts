import { InitialTopology1763769600000 } from './1763769600000-initial-topology.js';

/** Every migration, oldest first. A new migration file is added here too (no globs: works in tests and builds alike). */
export const MIGRATIONS = [InitialTopology1763769600000];
