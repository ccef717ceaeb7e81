/**
 * The `math` module (starlark-go's lib/math): functions of floats that also accept ints, with Go's results
 * (e.g. `floor`/`ceil` return ints, `round` rounds half away from zero, `mod` is Go's math.Mod).
 */
import { positional, unpackArgs } from "../values/args.ts";
import { StarError } from "../values/errors.ts";
import { floatToInt } from "../values/int.ts";
import { Builtin, Float, Module, typeName, type Value } from "../values/value.ts";

function num(fn: string, v: Value): number {
  if (v instanceof Float) return v.v;
  if (typeof v === "number") return v + 0;
  if (typeof v === "bigint") return Number(v);
  throw new StarError(`${fn}: got ${typeName(v)}, want float or int`);
}

function unary(name: string, f: (x: number) => number): Builtin {
  const fn = `math.${name}`;
  return new Builtin(fn, (_t, a, k) => {
    positional(fn, a, k, 1, 1);
    return new Float(f(num(fn, a[0]!)));
  });
}

function binary(name: string, f: (x: number, y: number) => number): Builtin {
  const fn = `math.${name}`;
  return new Builtin(fn, (_t, a, k) => {
    positional(fn, a, k, 2, 2);
    return new Float(f(num(fn, a[0]!), num(fn, a[1]!)));
  });
}

function toInt(fn: string, v: Value, f: (x: number) => number): Value {
  if (typeof v === "number" || typeof v === "bigint") return v;
  const x = num(fn, v);
  try {
    return floatToInt(f(x));
  } catch (e) {
    if (e instanceof StarError) e.message = `${fn}: ${e.message}`;
    throw e;
  }
}

/** IEEE 754 remainder: x - n*y with n the integer nearest x/y (ties to even). */
function remainder(x: number, y: number): number {
  if (!Number.isFinite(x) || Number.isNaN(y) || y === 0) return NaN;
  if (!Number.isFinite(y)) return x;
  const q = x / y;
  let n = Math.round(q);
  if (Math.abs(q - Math.trunc(q)) === 0.5) n = 2 * Math.round(q / 2);
  const r = x - n * y;
  return r === 0 ? (x < 0 ? -0 : 0) : r;
}

/** Go's math.Round: half away from zero, keeping the sign of zero. */
function goRound(x: number): number {
  if (!Number.isFinite(x)) return x;
  let t = Math.trunc(x);
  if (Math.abs(x - t) >= 0.5) t += Math.sign(x);
  return t === 0 ? (x < 0 || Object.is(x, -0) ? -0 : 0) : t;
}

function gamma(x: number): number {
  if (Number.isInteger(x) && x <= 0) return NaN;
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x));
  if (Number.isInteger(x) && x <= 171) {
    let r = 1;
    for (let i = 2; i < x; i++) r *= i;
    return r;
  }
  const g = 7;
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61503916999185, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  x -= 1;
  let a = c[0]!;
  const t = x + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += c[i]! / (x + i);
  return Math.sqrt(2 * Math.PI) * Math.pow(t, x + 0.5) * Math.exp(-t) * a;
}

export const mathModule = new Module("math", {
  ceil: new Builtin("math.ceil", (_t, a, k) => {
    positional("math.ceil", a, k, 1, 1);
    return toInt("math.ceil", a[0]!, Math.ceil);
  }),
  floor: new Builtin("math.floor", (_t, a, k) => {
    positional("math.floor", a, k, 1, 1);
    return toInt("math.floor", a[0]!, Math.floor);
  }),
  round: unary("round", goRound),
  fabs: unary("fabs", Math.abs),
  copysign: binary("copysign", (x, y) => (y < 0 || Object.is(y, -0) ? -Math.abs(x) : Math.abs(x))),
  mod: binary("mod", (x, y) => x % y),
  pow: binary("pow", (x, y) => (x === 1 || (y === 0 && !Number.isNaN(x)) ? 1 : Math.pow(x, y))),
  remainder: binary("remainder", remainder),
  exp: unary("exp", Math.exp),
  sqrt: unary("sqrt", Math.sqrt),
  acos: unary("acos", Math.acos),
  asin: unary("asin", Math.asin),
  atan: unary("atan", Math.atan),
  atan2: binary("atan2", Math.atan2),
  cos: unary("cos", Math.cos),
  hypot: binary("hypot", Math.hypot),
  sin: unary("sin", Math.sin),
  tan: unary("tan", Math.tan),
  degrees: unary("degrees", (x) => (x * 180) / Math.PI),
  radians: unary("radians", (x) => (x * Math.PI) / 180),
  acosh: unary("acosh", Math.acosh),
  asinh: unary("asinh", Math.asinh),
  atanh: unary("atanh", Math.atanh),
  cosh: unary("cosh", Math.cosh),
  sinh: unary("sinh", Math.sinh),
  tanh: unary("tanh", Math.tanh),
  gamma: unary("gamma", gamma),
  log: new Builtin("math.log", (_t, a, k) => {
    const [x, base] = unpackArgs("math.log", a, k, ["x", "base?"]);
    const v = Math.log(num("math.log", x!));
    if (base === undefined) return new Float(v);
    const b = num("math.log", base);
    if (b === 1) throw new StarError("math.log: division by zero");
    return new Float(v / Math.log(b));
  }),
  e: new Float(Math.E),
  pi: new Float(Math.PI),
  inf: new Float(Infinity),
  nan: new Float(NaN),
});
