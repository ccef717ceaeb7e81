/**
 * Argument unpacking for builtins, with starlark-go's error messages. A spec lists parameter names in order:
 * "name" is required, "name?" optional; a leading "*" in a name is not supported (builtins with *args read
 * `args` directly).
 */
import { StarError } from "./errors.ts";
import { nearest } from "../spell.ts";
import { Float, typeName, type Value } from "./value.ts";

export function unpackArgs(fnName: string, args: Value[], kwargs: [string, Value][], spec: string[]): (Value | undefined)[] {
  const out = new Array<Value | undefined>(spec.length);
  const names = spec.map((s) => (s.endsWith("?") ? s.slice(0, -1) : s));
  if (args.length > spec.length) {
    throw new StarError(`${fnName}: got ${args.length} arguments, want at most ${spec.length}`);
  }
  for (let i = 0; i < args.length; i++) out[i] = args[i];
  for (const [k, v] of kwargs) {
    const i = names.indexOf(k);
    if (i < 0) {
      // starlark-go's UnpackArgs draws its suggestion from the first half of the parameters only (it steps
      // through its name/pointer pairs two at a time up to the parameter count); the same candidates here give
      // the same message.
      const n = nearest(k, names.slice(0, Math.ceil(names.length / 2)));
      throw new StarError(`${fnName}: unexpected keyword argument "${k}"${n ? ` (did you mean ${n}?)` : ""}`);
    }
    if (out[i] !== undefined) throw new StarError(`${fnName}: got multiple values for keyword argument "${k}"`);
    out[i] = v;
  }
  for (let i = 0; i < spec.length; i++) {
    if (out[i] === undefined && !spec[i]!.endsWith("?")) throw new StarError(`${fnName}: missing argument for ${names[i]}`);
  }
  return out;
}

/**
 * How starlark-go's UnpackArgs names a parameter in a type error: by its name, quoted when the argument came as a
 * keyword (`sorted: for parameter "reverse": got int, want bool`), plain when it came by position.
 */
export function paramLabel(kwargs: [string, Value][], name: string): string {
  for (let i = 0; i < kwargs.length; i++) if (kwargs[i]![0] === name) return `"${name}"`;
  return name;
}

/** For builtins that take positional arguments only: between min and max of them. */
export function positional(fnName: string, args: Value[], kwargs: [string, Value][], min: number, max: number): void {
  if (kwargs.length > 0) throw new StarError(`${fnName}: unexpected keyword arguments`);
  if (args.length < min) {
    throw new StarError(`${fnName}: got ${args.length} arguments, want ${min < max ? "at least " : ""}${min}`);
  }
  if (args.length > max) {
    throw new StarError(`${fnName}: got ${args.length} arguments, want ${max > min ? "at most " : ""}${max}`);
  }
}

export function wantString(fnName: string, param: string, v: Value): string {
  if (typeof v !== "string") throw new StarError(`${fnName}: for parameter ${param}: got ${typeName(v)}, want string`);
  return v;
}

export function wantInt(fnName: string, param: string, v: Value): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") throw new StarError(`${fnName}: for parameter ${param}: ${v} out of range`);
  throw new StarError(`${fnName}: for parameter ${param}: got ${typeName(v)}, want int`);
}

export function wantBool(fnName: string, param: string, v: Value): boolean {
  if (typeof v !== "boolean") throw new StarError(`${fnName}: for parameter ${param}: got ${typeName(v)}, want bool`);
  return v;
}

/** An optional callable parameter (None is not accepted, as in starlark-go's UnpackArgs). */
export function wantCallable(fnName: string, param: string, v: Value): Value {
  if (typeof v !== "object" || typeof (v as { call?: unknown }).call !== "function") {
    throw new StarError(`${fnName}: for parameter ${param}: got ${typeName(v)}, want callable`);
  }
  return v;
}

export function isNumber(v: Value): boolean {
  return typeof v === "number" || typeof v === "bigint" || v instanceof Float;
}
