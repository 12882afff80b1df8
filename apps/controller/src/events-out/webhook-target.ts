import { isIP } from 'node:net';

/** What kind of network an address belongs to; only `public` is a webhook target by default. */
export type AddressKind = 'public' | 'loopback' | 'private' | 'link-local' | 'unique-local' | 'unspecified' | 'multicast' | 'reserved';

const V4_RANGES: [base: string, bits: number, kind: AddressKind][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'private'], // carrier-grade NAT
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'], // cloud metadata services live here
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function v4Kind(ip: string): AddressKind {
  const n = v4ToInt(ip);
  for (const [base, bits, kind] of V4_RANGES) {
    const size = 2 ** (32 - bits);
    const start = v4ToInt(base);
    if (n >= start && n < start + size) return kind;
  }
  return 'public';
}

/** The 8 groups of an IPv6 address as numbers (an embedded IPv4 tail is folded into the last two). */
function v6Groups(ip: string): number[] {
  let text = ip.toLowerCase().split('%')[0]!;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = v4ToInt(v4[1]!);
    text = text.slice(0, -v4[1]!.length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
}

const v4Of = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
const zeros = (g: number[], from: number, to: number) => g.slice(from, to).every((x) => x === 0);

/**
 * Classifies an IPv4 or IPv6 address. IPv6 forms that carry an IPv4 address are classified as that
 * address (IPv4-mapped, IPv4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16); other transition and
 * special-purpose ranges are not public.
 */
export function addressKind(ip: string): AddressKind {
  const family = isIP(ip.split('%')[0]!);
  if (family === 4) return v4Kind(ip);
  if (family !== 6) throw new Error(`not an IP address: ${ip}`);
  const g = v6Groups(ip);
  if (zeros(g, 0, 5) && g[5] === 0xffff) return v4Kind(v4Of(g[6]!, g[7]!)); // ::ffff:a.b.c.d
  if (g.every((x) => x === 0)) return 'unspecified';
  if (zeros(g, 0, 7) && g[7] === 1) return 'loopback';
  if (zeros(g, 0, 6)) return v4Kind(v4Of(g[6]!, g[7]!)); // ::a.b.c.d (IPv4-compatible, deprecated)
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(g, 2, 6)) return v4Kind(v4Of(g[6]!, g[7]!)); // NAT64
  if (g[0] === 0x2002) return v4Kind(v4Of(g[1]!, g[2]!)); // 6to4
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'private'; // site-local (deprecated)
  if ((g[0]! & 0xfe00) === 0xfc00) return 'unique-local';
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
  if (zeros(g, 0, 4) && g[4] === 0xffff && g[5] === 0) return 'reserved'; // ::ffff:0:a.b.c.d (IPv4-translated)
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return 'reserved'; // local-use NAT64
  if (g[0] === 0x100 && zeros(g, 1, 4)) return 'reserved'; // discard-only
  if (g[0] === 0x2001 && g[1] === 0) return 'reserved'; // Teredo
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'reserved'; // documentation
  return 'public';
}

/**
 * Why a URL's host may not receive webhooks when private targets are not allowed, as far as can be
 * told without resolving it (an IP literal, or `localhost`); null when nothing is wrong yet. Names are
 * checked again, resolved, when a delivery connects.
 */
export function literalTargetRefusal(url: string): string | null {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is a loopback name`;
  if (isIP(host.split('%')[0]!) === 0) return null;
  const kind = addressKind(host);
  return kind === 'public' ? null : `${host} is a ${kind} address`;
}
