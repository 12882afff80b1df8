import { describe, expect, it } from 'vitest';
import { LayeredMap } from './layered-map.js';

describe('LayeredMap', () => {
  it('behaves as a copied Map through many random changes (and folds its layers), leaving earlier versions unchanged', () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return (seed >>> 8) % n;
    };
    let layered = LayeredMap.from<number, string>([...Array(50).keys()].map((k) => [k, `v${k}`]));
    let plain = new Map(layered);
    const history: [LayeredMap<number, string>, Map<number, string>][] = [];
    for (let step = 0; step < 2000; step++) {
      const changes: [number, string | undefined][] = [];
      for (let i = random(4); i >= 0; i--) changes.push([random(600), random(3) === 0 ? undefined : `s${step}-${i}`]);
      layered = layered.with(changes);
      plain = new Map(plain);
      for (const [k, v] of changes) {
        if (v === undefined) plain.delete(k);
        else plain.set(k, v);
      }
      if (step % 97 === 0) history.push([layered, plain]);
      expect(layered.size).toBe(plain.size);
    }
    for (const [l, p] of history) {
      expect(new Map(l)).toEqual(p);
      expect([...l.keys()].sort()).toEqual([...p.keys()].sort());
      for (let k = 0; k < 600; k++) expect([l.has(k), l.get(k)]).toEqual([p.has(k), p.get(k)]);
    }
  });
});
