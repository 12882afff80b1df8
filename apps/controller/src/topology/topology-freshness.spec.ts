import { describe, expect, it } from 'vitest';
import { canVouch } from './topology-cache.service.js';

describe('canVouch (whether a controller replica may answer from its topology snapshot)', () => {
  it('vouches while LISTEN has been up since before the snapshot was loaded, however old the snapshot', () => {
    expect(canVouch(1_000, 1_000, 1_000_000)).toBe(true);
    expect(canVouch(1_000, 5_000, 1_000_000)).toBe(true);
  });

  it('without LISTEN, or with a snapshot older than the current LISTEN, vouches only for 2 s after the load began', () => {
    expect(canVouch(undefined, 10_000, 11_999)).toBe(true);
    expect(canVouch(undefined, 10_000, 12_000)).toBe(false);
    // LISTEN came back after the load: changes between the two may be missing until the next load.
    expect(canVouch(20_000, 10_000, 20_500)).toBe(false);
    expect(canVouch(20_000, 19_000, 20_500)).toBe(true);
  });

  it('never vouches before a first load', () => {
    expect(canVouch(1_000, 0, 1_500)).toBe(false);
    expect(canVouch(undefined, 0, 1)).toBe(false);
  });
});
