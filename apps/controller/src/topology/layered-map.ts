const GONE: unique symbol = Symbol('gone');

/** Changes kept on top of the shared base before they are folded into a new one (an O(n) copy, amortised over this many changes). */
const MAX_DELTA = 256;

/**
 * An immutable map that shares a base map with the ones derived from it and keeps its own changes on
 * top: deriving one with a few changes costs those changes, not the whole map. Every `MAX_DELTA`
 * changes the layers are folded into a fresh base. Lookups cost one extra probe while changes are
 * layered. Iteration yields every live entry once (the changed ones first), not in insertion order.
 */
export class LayeredMap<K, V> implements ReadonlyMap<K, V> {
  private constructor(
    private readonly base: ReadonlyMap<K, V>,
    private readonly delta: ReadonlyMap<K, V | typeof GONE>,
    readonly size: number,
  ) {}

  static from<K, V>(entries: Iterable<readonly [K, V]>): LayeredMap<K, V> {
    const base = new Map(entries);
    return new LayeredMap(base, new Map(), base.size);
  }

  get(key: K): V | undefined {
    if (this.delta.size > 0) {
      const changed = this.delta.get(key);
      if (changed !== undefined) return changed === GONE ? undefined : changed;
    }
    return this.base.get(key);
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  /** A map with these changes applied in order (`undefined` deletes the key); this one is unchanged. */
  with(changes: Iterable<readonly [K, V | undefined]>): LayeredMap<K, V> {
    const delta = new Map(this.delta);
    let size = this.size;
    for (const [key, value] of changes) {
      const layered = delta.get(key);
      const present = layered !== undefined ? layered !== GONE : this.base.has(key);
      if (value === undefined) {
        if (!present) continue;
        size--;
        if (this.base.has(key)) delta.set(key, GONE);
        else delta.delete(key);
      } else {
        if (!present) size++;
        delta.set(key, value);
      }
    }
    if (delta.size <= MAX_DELTA) return new LayeredMap(this.base, delta, size);
    const base = new Map(this.base);
    for (const [key, value] of delta) {
      if (value === GONE) base.delete(key);
      else base.set(key, value);
    }
    return new LayeredMap(base, new Map(), base.size);
  }

  *entries(): MapIterator<[K, V]> {
    for (const [key, value] of this.delta) if (value !== GONE) yield [key, value];
    for (const [key, value] of this.base) if (!this.delta.has(key)) yield [key, value];
  }

  *keys(): MapIterator<K> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: K, map: ReadonlyMap<K, V>) => void): void {
    for (const [key, value] of this.entries()) fn(value, key, this);
  }
}
