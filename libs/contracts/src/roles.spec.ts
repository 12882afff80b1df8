import { describe, expect, it } from 'vitest';
import { roleSatisfies } from './roles.js';

describe('roleSatisfies', () => {
  it('orders viewer < operator < admin', () => {
    expect(roleSatisfies('admin', 'viewer')).toBe(true);
    expect(roleSatisfies('operator', 'operator')).toBe(true);
    expect(roleSatisfies('operator', 'admin')).toBe(false);
    expect(roleSatisfies('viewer', 'operator')).toBe(false);
  });

  it('keeps agent apart from the ladder in both directions', () => {
    expect(roleSatisfies('agent', 'agent')).toBe(true);
    expect(roleSatisfies('admin', 'agent')).toBe(false);
    expect(roleSatisfies('agent', 'viewer')).toBe(false);
  });
});
