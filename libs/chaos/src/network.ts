/**
 * The lab's network faults as data, and the nftables rule set each host gets for them (pure).
 *
 * A drop `{ from, to }` loses every packet from host `from` to host `to`: it is enforced at both ends
 * (output at `from`, input at `to`), so a one-way partition is one drop and a full cut two. A loss drops
 * that fraction of packets between two hosts in both directions, chosen per packet by nft's `numgen`.
 */

export interface Drop {
  from: string;
  to: string;
}

export interface Loss {
  a: string;
  b: string;
  /** 0 < percent < 100. */
  percent: number;
}

export interface NetworkState {
  drops: Drop[];
  losses: Loss[];
}

export const HEALED: NetworkState = { drops: [], losses: [] };

/** Both directions between every host of `a` and every host of `b`. */
export function cut(a: string[], b: string[]): Drop[] {
  return a.flatMap((x) =>
    b.flatMap((y) =>
      x === y
        ? []
        : [
            { from: x, to: y },
            { from: y, to: x },
          ],
    ),
  );
}

/** Only packets from every host of `from` to every host of `to`. */
export function cutOneWay(from: string[], to: string[]): Drop[] {
  return from.flatMap((x) => to.flatMap((y) => (x === y ? [] : [{ from: x, to: y }])));
}

/** The same state with each drop listed once. */
export function merge(...states: Partial<NetworkState>[]): NetworkState {
  const seen = new Set<string>();
  const drops: Drop[] = [];
  for (const d of states.flatMap((s) => s.drops ?? [])) {
    const key = `${d.from}>${d.to}`;
    if (seen.has(key)) continue;
    seen.add(key);
    drops.push(d);
  }
  return { drops, losses: states.flatMap((s) => s.losses ?? []) };
}

/** The nft script that replaces `host`'s rules with those `state` needs (`ips`: host → address). */
export function rulesFor(host: string, state: NetworkState, ips: Record<string, string>): string {
  const ip = (h: string) => {
    const v = ips[h];
    if (!v) throw new Error(`unknown host ${h}`);
    return v;
  };
  const lines = [
    'table inet chaos {',
    '  chain input { type filter hook input priority 0; policy accept; }',
    '  chain output { type filter hook output priority 0; policy accept; }',
    '}',
    'flush table inet chaos',
  ];
  for (const d of state.drops) {
    if (d.from === host) lines.push(`add rule inet chaos output ip daddr ${ip(d.to)} drop`);
    if (d.to === host) lines.push(`add rule inet chaos input ip saddr ${ip(d.from)} drop`);
  }
  for (const l of state.losses) {
    if (l.percent <= 0 || l.percent >= 100) throw new Error(`loss percent must be in (0, 100): ${l.percent}`);
    const peer = l.a === host ? l.b : l.b === host ? l.a : undefined;
    // Enforced once, at `a`'s end, for both directions (so the loss is not applied twice).
    if (peer === undefined || l.a !== host) continue;
    const pct = Math.round(l.percent);
    lines.push(`add rule inet chaos output ip daddr ${ip(peer)} numgen random mod 100 < ${pct} drop`);
    lines.push(`add rule inet chaos input ip saddr ${ip(peer)} numgen random mod 100 < ${pct} drop`);
  }
  return `${lines.join('\n')}\n`;
}
