/**
 * The insertion-ordered hash table behind dict and set: a JS Map from `hashKey(k)` to an entry holding the
 * original key and value. Freezing and iteration guard mutation with starlark-go's messages.
 */
import { StarError } from "./errors.ts";
import { hashKey } from "./compare.ts";
import { freeze, type StarObject, type Value } from "./value.ts";

export interface Entry {
  k: Value;
  v: Value;
}

export class HashTable {
  readonly map = new Map<unknown, Entry>();
  frozen = false;
  itercount = 0;

  checkMutable(verb: string): void {
    if (this.frozen) throw new StarError(`cannot ${verb} frozen hash table`);
    if (this.itercount > 0) throw new StarError(`cannot ${verb} hash table during iteration`);
  }
  get size(): number {
    return this.map.size;
  }
  get(k: Value): Value | undefined {
    return this.map.get(hashKey(k))?.v;
  }
  has(k: Value): boolean {
    return this.map.has(hashKey(k));
  }
  set(k: Value, v: Value): void {
    const hk = hashKey(k);
    this.checkMutable("insert into");
    const e = this.map.get(hk);
    if (e !== undefined) e.v = v;
    else this.map.set(hk, { k, v });
  }
  delete(k: Value): Value | undefined {
    const hk = hashKey(k);
    this.checkMutable("delete from");
    const e = this.map.get(hk);
    if (e === undefined) return undefined;
    this.map.delete(hk);
    return e.v;
  }
  clear(): void {
    this.checkMutable("clear");
    this.map.clear();
  }
  keys(): Value[] {
    const out: Value[] = [];
    for (const e of this.map.values()) out.push(e.k);
    return out;
  }
  freeze(): void {
    if (this.frozen) return;
    this.frozen = true;
    for (const e of this.map.values()) {
      freeze(e.k);
      freeze(e.v);
    }
  }
}

export class Dict implements StarObject {
  readonly type = "dict";
  readonly ht = new HashTable();
  truth(): boolean {
    return this.ht.map.size > 0;
  }
  freeze(): void {
    this.ht.freeze();
  }
}

export class StarSet implements StarObject {
  readonly type = "set";
  readonly ht = new HashTable();
  truth(): boolean {
    return this.ht.map.size > 0;
  }
  freeze(): void {
    this.ht.freeze();
  }
  add(v: Value): void {
    const hk = hashKey(v);
    if (this.ht.map.has(hk)) return; // adding a present element is not a mutation
    this.ht.checkMutable("insert into");
    this.ht.map.set(hk, { k: v, v: v });
  }
}
