import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyId, SecretBox } from './secret-box.js';

/** A value sealed the way releases before key ids did. */
function sealV1(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

describe('SecretBox', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);

  it('round-trips under a named key and never shows the plaintext', () => {
    const sealed = box.seal('hunter2');
    expect(sealed).not.toContain('hunter2');
    expect(sealed.startsWith(`v2.${keyId(key)}.`)).toBe(true);
    expect(box.isCurrent(sealed)).toBe(true);
    expect(box.open(sealed)).toBe('hunter2');
    expect(box.seal('hunter2')).not.toBe(sealed);
  });

  it('refuses a tampered or foreign-key secret, naming the missing key', () => {
    const sealed = box.seal('hunter2');
    const parts = sealed.split('.');
    parts[4] = Buffer.from('x').toString('base64url');
    expect(() => box.open(parts.join('.'))).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed)).toThrow(`sealed with key ${keyId(key)}`);
  });

  it('opens with an old key after rotation (v2 by key id, v1 by trying each key), and seals with the new one', () => {
    const next = randomBytes(32);
    const rotated = new SecretBox(next, [key]);
    const old = box.seal('s3cret');
    expect(rotated.open(old)).toBe('s3cret');
    expect(rotated.isCurrent(old)).toBe(false);
    expect(rotated.open(sealV1(key, 'legacy'))).toBe('legacy');
    expect(new SecretBox(key).open(sealV1(key, 'legacy'))).toBe('legacy');
    expect(rotated.isCurrent(rotated.seal('x'))).toBe(true);
    expect(() => new SecretBox(next).open(sealV1(key, 'legacy'))).toThrow(/neither VIGIL_SECRET_KEY/);
  });
});
