import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** A key's public name in sealed values: the first 8 hex characters of its SHA-256. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/**
 * Seals secrets (Redis passwords, webhook signing secrets) with AES-256-GCM under the key from
 * VIGIL_SECRET_KEY. Format `v2.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts), so a value names the
 * key that sealed it; `v1.<iv>.<tag>.<ciphertext>` (before key ids) is still read, with each key tried.
 * Older keys (VIGIL_SECRET_KEYS_OLD) only open; `npm run secrets:reseal` moves everything to the current key.
 */
export class SecretBox {
  private readonly keys: Map<string, Buffer>;
  readonly currentKeyId: string;

  constructor(
    private readonly key: Buffer,
    oldKeys: readonly Buffer[] = [],
  ) {
    for (const k of [key, ...oldKeys]) if (k.length !== 32) throw new Error('SecretBox needs 32-byte keys');
    this.currentKeyId = keyId(key);
    this.keys = new Map();
    for (const k of [key, ...oldKeys]) {
      const id = keyId(k);
      const known = this.keys.get(id);
      if (known && !known.equals(k)) throw new Error(`two secret keys share the key id ${id}: replace one of them`);
      if (!known) this.keys.set(id, k);
    }
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v2', this.currentKeyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  /** Whether a sealed value is already under the current key (nothing to re-seal). */
  isCurrent(sealed: string): boolean {
    return sealed.startsWith(`v2.${this.currentKeyId}.`);
  }

  open(sealed: string): string {
    const parts = sealed.split('.');
    if (parts[0] === 'v2' && parts.length === 5) {
      const key = this.keys.get(parts[1]!);
      if (!key) throw new Error(`sealed with key ${parts[1]}, which is neither VIGIL_SECRET_KEY nor one of VIGIL_SECRET_KEYS_OLD`);
      return decrypt(key, parts[2]!, parts[3]!, parts[4]!);
    }
    if (parts[0] === 'v1' && parts.length === 4) {
      for (const key of this.keys.values()) {
        try {
          return decrypt(key, parts[1]!, parts[2]!, parts[3]!);
        } catch {
          // not this key: try the next
        }
      }
      throw new Error('sealed with a key that is neither VIGIL_SECRET_KEY nor one of VIGIL_SECRET_KEYS_OLD');
    }
    throw new Error('unrecognised sealed secret');
  }
}

function decrypt(key: Buffer, iv: string, tag: string, body: string): string {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
