import { networkInterfaces } from 'node:os';
import type { ControllerConfig } from '../config/config.js';

/**
 * The address clients should use for this replica's own endpoints (Sentinel-compatible, DNS):
 * `SENTINEL_ANNOUNCE_IP`, else the interface they are bound to, else the first external IPv4.
 */
export function announceHost(config: ControllerConfig): string {
  if (config.sentinelAnnounceIp) return config.sentinelAnnounceIp;
  if (config.publishHost !== '0.0.0.0' && config.publishHost !== '::') return config.publishHost;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
