import { createHash, hash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number }) => Promise<Buffer>;

/** scrypt cost for token secrets. Tokens are random, so the cost guards only against stolen hashes. */
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;
const TOKEN_PREFIX = 'vgl';

/** A freshly minted token: `token` is shown to the caller once; only `lookup` and the hash are kept. */
export interface MintedToken {
  token: string;
  lookup: string;
  secret: string;
}

/** Mints `vgl_<lookup>_<secret>`: 12 url-safe chars to find the row, 32 random bytes to prove it. */
export function mintToken(): MintedToken {
  const lookup = randomBytes(9).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  return { token: `${TOKEN_PREFIX}_${lookup}_${secret}`, lookup, secret };
}

/** Splits a presented token into its lookup and secret; null for anything not minted by `mintToken`. */
export function parseToken(token: string): { lookup: string; secret: string } | null {
  const m = /^vgl_([A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{43})$/.exec(token);
  return m ? { lookup: m[1]!, secret: m[2]! } : null;
}

/** `scrypt$N$r$p$salt$hash`, all parameters kept so they can change later without breaking old rows. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, SCRYPT.keylen, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** Constant-time check of `secret` against a `hashSecret` result. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(secret, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Constant-time equality of two secrets of any length (compares their SHA-256 digests). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** A fast digest of a presented token, used only as an in-memory cache key (never stored). */
export function cacheKey(token: string): string {
  return hash('sha256', token, 'base64url');
}
