/**
 * The `math` module (starlark-go's lib/math): functions of floats that also accept ints, with Go's results
 * (e.g. `floor`/`ceil` return ints, `round` rounds half away from zero, `mod` is Go's math.Mod).
 */
import { positional, unpackArgs } from "../values/args.ts";
import { StarError } from "../values/errors.ts";
import { floatToInt } from "../values/int.ts";
import { Builtin, Float, Module, typeName, type Value } from "../values/value.ts";
import {
  goAcos, goAcosh, goAsin, goAsinh, goAtan, goAtan2, goAtanh, goCos, goCosh, goExp, goGamma, goHypot, goLog, goPow,
  goRemainder, goSin, goSinh, goTan, goTanh,
} from "./gomath.ts";

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

/** Go's math.Round: half away from zero, keeping the sign of zero. */
function goRound(x: number): number {
  if (!Number.isFinite(x)) return x;
  let t = Math.trunc(x);
  if (Math.abs(x - t) >= 0.5) t += Math.sign(x);
  return t === 0 ? (x < 0 || Object.is(x, -0) ? -0 : 0) : t;
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
  pow: binary("pow", goPow),
  remainder: binary("remainder", goRemainder),
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
  degrees: unary("degrees", (x) => (x * 180) / Math.PI),
  radians: unary("radians", (x) => (x * Math.PI) / 180),
  acosh: unary("acosh", goAcosh),
  asinh: unary("asinh", goAsinh),
  atanh: unary("atanh", goAtanh),
  cosh: unary("cosh", goCosh),
  sinh: unary("sinh", goSinh),
  tanh: unary("tanh", goTanh),
  gamma: unary("gamma", goGamma),
  log: new Builtin("math.log", (_t, a, k) => {
    const [x, base] = unpackArgs("math.log", a, k, ["x", "base?"]);
    const v = goLog(num("math.log", x!));
    const b = base === undefined ? Math.E : num("math.log", base);
    if (b === 1) throw new StarError("math.log: division by zero");
    return new Float(v / goLog(b)); // Go divides by Log(e) too when no base is given
  }),
  e: new Float(Math.E),
  pi: new Float(Math.PI),
});
