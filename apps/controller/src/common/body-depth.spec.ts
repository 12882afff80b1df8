import { describe, expect, it } from 'vitest';
import { nestsDeeperThan } from './body-depth.js';

describe('nestsDeeperThan', () => {
  it('counts objects and arrays, not scalars', () => {
    expect(nestsDeeperThan(1, 0)).toBe(false);
    expect(nestsDeeperThan({}, 0)).toBe(true);
    expect(nestsDeeperThan({ a: 1, b: 'x', c: null }, 1)).toBe(false);
    expect(nestsDeeperThan({ nodes: [{ host: 'a', redis: { tls: true } }] }, 4)).toBe(false);
    expect(nestsDeeperThan({ nodes: [{ host: 'a', redis: { tls: true } }] }, 3)).toBe(true);
  });

  it('walks a value far deeper than the stack allows without recursing', () => {
    const deep = JSON.parse('['.repeat(200_000) + ']'.repeat(200_000));
    expect(nestsDeeperThan(deep, 32)).toBe(true);
    expect(nestsDeeperThan({ wide: Array.from({ length: 100_000 }, (_, i) => ({ i })) }, 32)).toBe(false);
  });
});
