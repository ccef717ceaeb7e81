/**
 * The insertion-ordered hash table behind dict and set, like starlark-go's hashtable: parallel arrays of keys,
 * values and hashes in insertion order, plus an open-addressing index (an Int32Array of entry numbers, linear
 * probing). A JS Map is not used because it needs a derived key per Starlark value and costs two lookups per
 * insert; here a string key is hashed once by `hashOf` and compared with `===`, other keys with `equals`, so 1
 * and 1.0 are the same key. Deleted entries keep their index slot as a tombstone (their key becomes undefined)
 * until the next rebuild. Freezing and iteration guard mutation with starlark-go's messages.
 */
import { charge, ENTRY_BYTES } from "./budget.ts";
import { StarError } from "./errors.ts";
import { equals, hashOf } from "./compare.ts";
import { freeze, type StarObject, type Value } from "./value.ts";

const EMPTY = -1;
/** The index of a table that has never held an entry: one empty slot, so the first insert rebuilds. */
const NO_INDEX = new Int32Array([EMPTY]);

export class HashTable {
  /** Keys in insertion order; undefined marks a deleted entry. */
  ks: (Value | undefined)[] = [];
  vs: Value[] = [];
  hs: number[] = [];
  idx: Int32Array = NO_INDEX;
  mask = 0;
  /** Live entries. */
  count = 0;
  /** No live entry precedes this entry number (keeps repeated pop() linear). */
  head = 0;
  frozen = false;
  itercount = 0;

  checkMutable(verb: string): void {
    if (this.frozen) throw new StarError(`cannot ${verb} frozen hash table`);
    if (this.itercount > 0) throw new StarError(`cannot ${verb} hash table during iteration`);
  }
  get size(): number {
    return this.count;
  }

  /** The entry number of k, or the bitwise complement of the empty slot where k would go. */
  lookup(k: Value, h: number): number {
    const idx = this.idx,
      mask = this.mask,
      ks = this.ks,
      hs = this.hs;
    let i = h & mask;
    for (;;) {
      const e = idx[i]!;
      if (e === EMPTY) return ~i;
      if (hs[e] === h) {
        const q = ks[e];
        if (q === k || (q !== undefined && typeof k !== "string" && typeof q !== "string" && equals(q, k))) return e;
      }
      i = (i + 1) & mask;
    }
  }

  get(k: Value): Value | undefined {
    if (this.count === 0) {
      hashOf(k); // still reject unhashable keys
      return undefined;
    }
    const e = this.lookup(k, hashOf(k));
    return e >= 0 ? this.vs[e] : undefined;
  }
  has(k: Value): boolean {
    return this.get(k) !== undefined;
  }
  set(k: Value, v: Value): void {
    const h = hashOf(k);
    this.checkMutable("insert into");
    let e = this.lookup(k, h);
    if (e >= 0) {
      this.vs[e] = v;
      return;
    }
    this.append(k, v, h, e);
  }
  /** Inserts k if absent (no mutation check when present); reports whether it was inserted. */
  add(k: Value, v: Value): boolean {
    const h = hashOf(k);
    const e = this.lookup(k, h);
    if (e >= 0) return false;
    this.checkMutable("insert into");
    this.append(k, v, h, e);
    return true;
  }
  private append(k: Value, v: Value, h: number, notFound: number): void {
    charge(ENTRY_BYTES);
    const n = this.ks.length;
    if ((n + 1) * 2 > this.mask + 1) {
      this.rebuild(this.count + 1);
      notFound = this.lookup(k, h);
    }
    const e = this.ks.length;
    this.ks.push(k);
    this.vs.push(v);
    this.hs.push(h);
    this.idx[~notFound] = e;
    this.count++;
  }
  /** Drops deleted entries and sizes the index for `want` live entries (load factor at most 1/2, then 1/4). */
  private rebuild(want: number): void {
    const ks = this.ks,
      vs = this.vs,
      hs = this.hs;
    if (this.count !== ks.length) {
      let j = 0;
      for (let e = 0; e < ks.length; e++) {
        const k = ks[e];
        if (k === undefined) continue;
        ks[j] = k;
        vs[j] = vs[e]!;
        hs[j] = hs[e]!;
        j++;
      }
      ks.length = vs.length = hs.length = j;
    }
    this.head = 0;
    let size = 8;
    while (size < want * 4) size *= 2;
    const idx = new Int32Array(size).fill(EMPTY);
    const mask = size - 1;
    for (let e = 0; e < ks.length; e++) {
      let i = hs[e]! & mask;
      while (idx[i] !== EMPTY) i = (i + 1) & mask;
      idx[i] = e;
    }
    this.idx = idx;
    this.mask = mask;
  }
  delete(k: Value): Value | undefined {
    const h = hashOf(k);
    this.checkMutable("delete from");
    if (this.count === 0) return undefined;
    const e = this.lookup(k, h);
    if (e < 0) return undefined;
    return this.deleteAt(e);
  }
  /** Deletes entry e (which must be live); the caller has checked mutability. */
  deleteAt(e: number): Value {
    const v = this.vs[e]!;
    this.ks[e] = undefined;
    this.vs[e] = undefined as unknown as Value;
    this.count--;
    if (this.ks.length - this.count > this.count + 16) this.rebuild(this.count);
    return v;
  }
  /** The entry number of the first live entry, or -1. */
  first(): number {
    const ks = this.ks;
    let e = this.head;
    while (e < ks.length && ks[e] === undefined) e++;
    this.head = e;
    return e < ks.length ? e : -1;
  }
  clear(): void {
    this.checkMutable("clear");
    this.ks = [];
    this.vs = [];
    this.hs = [];
    this.idx = NO_INDEX;
    this.mask = 0;
    this.count = 0;
    this.head = 0;
  }
  keys(): Value[] {
    const ks = this.ks;
    if (this.count === ks.length) return ks.slice() as Value[];
    const out: Value[] = [];
    for (let e = 0; e < ks.length; e++) if (ks[e] !== undefined) out.push(ks[e]!);
    return out;
  }
  values(): Value[] {
    const ks = this.ks,
      vs = this.vs;
    if (this.count === ks.length) return vs.slice();
    const out: Value[] = [];
    for (let e = 0; e < ks.length; e++) if (ks[e] !== undefined) out.push(vs[e]!);
    return out;
  }
  /** The live [key, value] pairs in order. */
  entries(): [Value, Value][] {
    const ks = this.ks,
      vs = this.vs;
    const out: [Value, Value][] = [];
    for (let e = 0; e < ks.length; e++) if (ks[e] !== undefined) out.push([ks[e]!, vs[e]!]);
    return out;
  }
  freeze(): void {
    if (this.frozen) return;
    this.frozen = true;
    const ks = this.ks,
      vs = this.vs;
    for (let e = 0; e < ks.length; e++) {
      if (ks[e] === undefined) continue;
      freeze(ks[e]!);
      freeze(vs[e]!);
    }
  }
}

export class Dict implements StarObject {
  readonly type = "dict";
  readonly ht = new HashTable();
  truth(): boolean {
    return this.ht.count > 0;
  }
  freeze(): void {
    this.ht.freeze();
  }
}

export class StarSet implements StarObject {
  readonly type = "set";
  readonly ht = new HashTable();
  truth(): boolean {
    return this.ht.count > 0;
  }
  freeze(): void {
    this.ht.freeze();
  }
  /** Like starlark-go, adding fails on a frozen or iterated set even when the element is present. */
  add(v: Value): void {
    this.ht.set(v, v);
  }
}
