import { describe, expect, it } from 'vitest';
import { hashSecret, mintToken, parseToken, secretsEqual, verifySecret } from './token-secret.js';

describe('token secrets', () => {
  it('mints tokens that parse back into lookup and secret', () => {
    const t = mintToken();
    expect(t.token).toMatch(/^vgl_/);
    expect(parseToken(t.token)).toEqual({ lookup: t.lookup, secret: t.secret });
    expect(parseToken('vgl_short_x')).toBeNull();
    expect(parseToken('some-admin-token')).toBeNull();
  });

  it('hashes with a random salt and verifies only the right secret', async () => {
    const a = await hashSecret('s3cret');
    const b = await hashSecret('s3cret');
    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cret');
    expect(await verifySecret('s3cret', a)).toBe(true);
    expect(await verifySecret('s3creT', a)).toBe(false);
    expect(await verifySecret('s3cret', 'garbage')).toBe(false);
  });

  it('compares secrets of any length', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abd')).toBe(false);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
  });
});
