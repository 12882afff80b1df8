export * from './roles.js';
export * from './names.js';
export * from './agent-api.js';
export * from './report-fields.js';

/** Version reported by the controller and agents (kept equal to package.json's). */
export const VIGIL_VERSION = '0.1.0';
