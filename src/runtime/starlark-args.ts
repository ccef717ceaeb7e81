/**
 * Turning the Starlark values passed to ace.* and plugin builtins into plain typed data, with starlark-go style
 * messages ("proxy.config: for parameter url: got int, want string"). Nothing past these functions sees a
 * Starlark value.
 */
import { isList, isTuple, None, str, toJS, typeName, type Value } from "../starlark/index.ts";

export class ArgError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArgError";
  }
}

function want(fn: string, param: string, v: Value, what: string): ArgError {
  return new ArgError(`${fn}: for parameter ${param}: got ${typeName(v)}, want ${what}`);
}

export function isAbsent(v: Value | undefined): v is undefined {
  return v === undefined || v === None;
}

export function asString(fn: string, param: string, v: Value | undefined, dflt: string): string {
  if (isAbsent(v)) return dflt;
  if (typeof v !== "string") throw want(fn, param, v, "string");
  return v;
}

export function asBool(fn: string, param: string, v: Value | undefined, dflt: boolean): boolean {
  if (isAbsent(v)) return dflt;
  if (typeof v !== "boolean") throw want(fn, param, v, "bool");
  return v;
}

export function asInt(fn: string, param: string, v: Value | undefined, dflt: number): number {
  if (isAbsent(v)) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v)) throw want(fn, param, v, "int");
  return v;
}

/** Any iterable list/tuple → its elements, each converted to a JS value. */
function asArray(fn: string, param: string, v: Value): unknown[] {
  const js = toJS(v);
  if (!Array.isArray(js)) throw want(fn, param, v, "list");
  return js;
}

export function asStringList(fn: string, param: string, v: Value | undefined): string[] {
  if (isAbsent(v)) return [];
  const items = asArray(fn, param, v);
  return items.map((x, i) => {
    if (typeof x !== "string") throw new ArgError(`${fn}: for parameter ${param}: element ${i} is not a string`);
    return x;
  });
}

/** A list of Starlark values, unconverted (for lists of structs such as routes). */
export function asValueList(fn: string, param: string, v: Value | undefined): Value[] {
  if (isAbsent(v)) return [];
  if (isList(v) || isTuple(v)) return [...v.elems];
  throw want(fn, param, v, "list");
}

/** A dict with string keys; values are printed as strings (numbers and bools as Starlark prints them). */
export function asStringDict(fn: string, param: string, v: Value | undefined): Record<string, string> {
  if (isAbsent(v)) return {};
  if (typeName(v) !== "dict") throw want(fn, param, v, "dict");
  const js = toJS(v);
  if (js instanceof Map || typeof js !== "object" || js === null) {
    throw new ArgError(`${fn}: for parameter ${param}: keys must be strings`);
  }
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(js as Record<string, unknown>)) {
    if (typeof x === "string") out[k] = x;
    else if (typeof x === "number" || typeof x === "boolean" || typeof x === "bigint") out[k] = String(x);
    else throw new ArgError(`${fn}: for parameter ${param}: the value for ${JSON.stringify(k)} must be a string`);
  }
  return out;
}

/** A dict converted to plain JSON-like data (settings). */
export function asPlainDict(fn: string, param: string, v: Value | undefined): Record<string, unknown> {
  if (isAbsent(v)) return {};
  if (typeName(v) !== "dict") throw want(fn, param, v, "dict");
  const js = toJS(v);
  if (js instanceof Map || typeof js !== "object" || js === null) {
    throw new ArgError(`${fn}: for parameter ${param}: keys must be strings`);
  }
  return js as Record<string, unknown>;
}

/** How a positional argument is compared with an approved permission argument. */
export function permissionArgString(v: Value): string {
  return typeof v === "string" ? v : str(v);
}
