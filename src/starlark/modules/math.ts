/**
 * The `math` module (starlark-go's lib/math): functions of floats that also accept ints, with Go's results
 * (e.g. `floor`/`ceil` return ints, `round` rounds half away from zero, `mod` is Go's math.Mod).
 */
import { positional } from "../values/args.ts";
import { StarError } from "../values/errors.ts";
import { floatToInt } from "../values/int.ts";
import { Builtin, Float, Module, typeName, type Value } from "../values/value.ts";
import {
  goAcos, goAcosh, goAsin, goAsinh, goAtan, goAtan2, goAtanh, goCos, goCosh, goExp, goGamma, goHypot, goLog, goPow,
  goRemainder, goSin, goSinh, goTan, goTanh,
} from "./gomath.ts";

/**
 * starlark-go's floatOrInt unpacker: an int (its nearest float) or a float, else "got T, want float or int".
 * Builtins named here as starlark-go names them (`exp`, not `math.exp`), which is what their messages and
 * `str(math.exp)` show.
 */
function floatOrInt(v: Value): number | undefined {
  if (v instanceof Float) return v.v;
  if (typeof v === "number") return v + 0;
  if (typeof v === "bigint") return Number(v);
  return undefined;
}

function wrongType(v: Value): string {
  return `got ${typeName(v)}, want float or int`;
}

/** An argument unpacked as UnpackPositionalArgs does: "NAME: for parameter N: got T, want float or int". */
function param(fn: string, i: number, v: Value): number {
  const x = floatOrInt(v);
  if (x === undefined) throw new StarError(`${fn}: for parameter ${i + 1}: ${wrongType(v)}`);
  return x;
}

function unary(name: string, f: (x: number) => number): Builtin {
  return new Builtin(name, (_t, a, k) => {
    positional(name, a, k, 1, 1);
    return new Float(f(param(name, 0, a[0]!)));
  });
}

function binary(name: string, f: (x: number, y: number) => number): Builtin {
  return new Builtin(name, (_t, a, k) => {
    positional(name, a, k, 2, 2);
    return new Float(f(param(name, 0, a[0]!), param(name, 1, a[1]!)));
  });
}

/** ceil and floor: an int as it is; a float rounded, then truncated to an int (NumberToInt's errors, unprefixed). */
function toInt(name: string, round: (x: number) => number): Builtin {
  return new Builtin(name, (_t, a, k) => {
    positional(name, a, k, 1, 1);
    const v = a[0]!;
    if (typeof v === "number" || typeof v === "bigint") return v;
    if (!(v instanceof Float)) throw new StarError(wrongType(v));
    return floatToInt(round(v.v));
  });
}

/** Go's math.Round: half away from zero, keeping the sign of zero. */
function goRound(x: number): number {
  if (!Number.isFinite(x)) return x;
  let t = Math.trunc(x);
  if (Math.abs(x - t) >= 0.5) t += Math.sign(x);
  return t === 0 ? (x < 0 || Object.is(x, -0) ? -0 : 0) : t;
}

export const mathModule = new Module("math", {
  ceil: toInt("ceil", Math.ceil),
  copysign: binary("copysign", (x, y) => (y < 0 || Object.is(y, -0) ? -Math.abs(x) : Math.abs(x))),
  fabs: unary("fabs", Math.abs),
  floor: toInt("floor", Math.floor),
  mod: binary("mod", (x, y) => x % y), // JS % is C's fmod, as Go's math.Mod
  pow: binary("pow", goPow),
  remainder: binary("remainder", goRemainder),
  round: unary("round", goRound),
  exp: unary("exp", goExp),
  sqrt: unary("sqrt", Math.sqrt),
  acos: unary("acos", goAcos),
  asin: unary("asin", goAsin),
  atan: unary("atan", goAtan),
  atan2: binary("atan2", goAtan2),
  cos: unary("cos", goCos),
  hypot: binary("hypot", goHypot),
  sin: unary("sin", goSin),
  tan: unary("tan", goTan),
  // The same expressions as lib/math, so that the last bit agrees.
  degrees: unary("degrees", (x) => (360 * x) / (2 * Math.PI)),
  radians: unary("radians", (x) => (2 * Math.PI * x) / 360),
  acosh: unary("acosh", goAcosh),
  asinh: unary("asinh", goAsinh),
  atanh: unary("atanh", goAtanh),
  cosh: unary("cosh", goCosh),
  sinh: unary("sinh", goSinh),
  tanh: unary("tanh", goTanh),
  log: new Builtin("log", (_t, a, k) => {
    positional("log", a, k, 1, 2);
    const x = param("log", 0, a[0]!);
    const base = a.length > 1 ? param("log", 1, a[1]!) : Math.E;
    if (base === 1) throw new StarError("division by zero");
    return new Float(goLog(x) / goLog(base)); // Go divides by Log(e) too when no base is given
  }),
  gamma: unary("gamma", goGamma),
  e: new Float(Math.E),
  pi: new Float(Math.PI),
});
