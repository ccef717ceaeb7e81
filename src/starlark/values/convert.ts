/**
 * Conversion between Starlark values and plain TS data for embedders: None <-> null, bool, int <-> number
 * (bigint beyond 2^53), float -> number, string, list/tuple -> array, dict -> plain object when every key is a
 * string (else a Map), struct -> plain object.
 */
import { StarError } from "./errors.ts";
import { Dict, StarSet } from "./hashtable.ts";
import { norm } from "./int.ts";
import { toHostString } from "./strings.ts";
import { Bytes, Float, List, None, Struct, Tuple, typeName, type Value } from "./value.ts";

export function toJS(v: Value): unknown {
  switch (typeof v) {
    case "string":
      return toHostString(v);
    case "number":
    case "boolean":
    case "bigint":
      return v;
  }
  if (v === None) return null;
  if (v instanceof Float) return v.v;
  if (v instanceof List || v instanceof Tuple) return v.elems.map(toJS);
  if (v instanceof StarSet) return v.ht.keys().map(toJS);
  if (v instanceof Dict) {
    const entries = v.ht.entries();
    if (entries.every((e) => typeof e[0] === "string")) {
      const o: Record<string, unknown> = {};
      for (const [k, x] of entries) o[toHostString(k as string)] = toJS(x);
      return o;
    }
    return new Map(entries.map(([k, x]) => [toJS(k), toJS(x)]));
  }
  if (v instanceof Struct) {
    const o: Record<string, unknown> = {};
    for (const [k, f] of v.fields) o[k] = toJS(f);
    return o;
  }
  if (v instanceof Bytes) return Uint8Array.from(v.s, (c) => c.charCodeAt(0));
  return v; // functions, modules and host values pass through unchanged
}

export function fromJS(x: unknown): Value {
  if (x === null || x === undefined) return None;
  switch (typeof x) {
    case "string":
    case "boolean":
      return x;
    case "bigint":
      return norm(x);
    case "number":
      return Number.isSafeInteger(x) && !Object.is(x, -0) ? x : new Float(x);
  }
  if (Array.isArray(x)) return new List(x.map(fromJS));
  if (x instanceof Uint8Array) return new Bytes(String.fromCharCode(...x));
  if (x instanceof Map) {
    const d = new Dict();
    for (const [k, v] of x) d.ht.set(fromJS(k), fromJS(v));
    return d;
  }
  if (typeof x === "object") {
    if (typeof (x as { type?: unknown }).type === "string" && typeof (x as { truth?: unknown }).truth === "function") return x as Value;
    const d = new Dict();
    for (const [k, v] of Object.entries(x as Record<string, unknown>)) d.ht.set(k, fromJS(v));
    return d;
  }
  throw new StarError(`cannot convert ${typeof x} to a Starlark value`);
}

export { typeName };
