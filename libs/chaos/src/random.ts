/** Seeded randomness for reproducible trials (pure). */
export { mulberry32 } from '../../testing/src/random.js';

/** A trial's seed from the run's seed and the trial's identity (FNV-1a over the parts), so one trial can be rerun alone. */
export function mixSeed(seed: number, ...parts: (string | number)[]): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (const ch of `${seed}|${parts.join('|')}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
