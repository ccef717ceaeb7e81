/**
 * Arbitrary-precision int arithmetic on the two int representations: a JS number (|n| <= 2^53-1) and a bigint
 * (only beyond that range). Results are normalized back to a number whenever they fit. The evaluator inlines the
 * number+number fast paths; these functions are the general case.
 */
import { StarError } from "./errors.ts";

export type Int = number | bigint;

const MAX = 9007199254740991;
const MAXB = 9007199254740991n;
const MINB = -9007199254740991n;

export function norm(b: bigint): Int {
  // A big positive result (the common case in big-int loops) is settled by the first comparison.
  return b > MAXB || b < MINB ? b : Number(b);
}

export function big(x: Int): bigint {
  return typeof x === "bigint" ? x : BigInt(x);
}

export function fits(n: number): boolean {
  return n <= MAX && n >= -MAX;
}

export function intAdd(x: Int, y: Int): Int {
  if (typeof x === "number") {
    if (typeof y === "number") {
      const z = x + y;
      if (fits(z)) return z;
      return norm(BigInt(x) + BigInt(y));
    }
    return norm(BigInt(x) + y);
  }
  // Each operand converted at most once: big-int loops (x = x * 3 + i) mix a bigint with a small number.
  return norm(x + (typeof y === "bigint" ? y : BigInt(y)));
}

export function intSub(x: Int, y: Int): Int {
  if (typeof x === "number") {
    if (typeof y === "number") {
      const z = x - y;
      if (fits(z)) return z;
      return norm(BigInt(x) - BigInt(y));
    }
    return norm(BigInt(x) - y);
  }
  // Each operand converted at most once: big-int loops (x = x * 3 + i) mix a bigint with a small number.
  return norm(x - (typeof y === "bigint" ? y : BigInt(y)));
}

export function intMul(x: Int, y: Int): Int {
  if (typeof x === "number") {
    if (typeof y === "number") {
      const z = x * y;
      if (fits(z)) return z;
      return norm(BigInt(x) * BigInt(y));
    }
    return x === 0 ? 0 : BigInt(x) * y;
  }
  // A bigint is beyond 2^53 in magnitude, so its product with any nonzero int is too: no norm() needed.
  if (typeof y === "bigint") return x * y;
  return y === 0 ? 0 : x * BigInt(y);
}

export function intFloorDiv(x: Int, y: Int): Int {
  if (y === 0) throw new StarError("floored division by zero");
  if (typeof x === "number" && typeof y === "number") return Math.floor(x / y) + 0;
  const a = big(x),
    b = big(y);
  let q = a / b;
  if ((a % b !== 0n) && ((a < 0n) !== (b < 0n))) q -= 1n;
  return norm(q);
}

export function intMod(x: Int, y: Int): Int {
  if (y === 0) throw new StarError("integer modulo by zero");
  if (typeof x === "number" && typeof y === "number") {
    let r = x % y;
    if (r !== 0 && (r < 0) !== (y < 0)) r += y;
    return r + 0;
  }
  const a = big(x),
    b = big(y);
  let r = a % b;
  if (r !== 0n && (r < 0n) !== (b < 0n)) r += b;
  return norm(r);
}

export function intNeg(x: Int): Int {
  return typeof x === "number" ? 0 - x : norm(-x);
}

const I32 = (n: Int): n is number => typeof n === "number" && (n | 0) === n;

export function intAnd(x: Int, y: Int): Int {
  if (I32(x) && I32(y)) return x & y;
  return norm(big(x) & big(y));
}
export function intOr(x: Int, y: Int): Int {
  if (I32(x) && I32(y)) return x | y;
  return norm(big(x) | big(y));
}
export function intXor(x: Int, y: Int): Int {
  if (I32(x) && I32(y)) return x ^ y;
  return norm(big(x) ^ big(y));
}
export function intInvert(x: Int): Int {
  if (I32(x)) return ~x;
  return norm(~big(x));
}

export function intShift(op: "<<" | ">>", x: Int, y: Int): Int {
  if (y < 0) throw new StarError("negative shift count: " + y);
  if (op === "<<") {
    if (y >= 512) throw new StarError("shift count too large: " + y);
    if (I32(x) && y < 21 && Math.abs(x) < 1 << 30) return x * 2 ** Number(y);
    return norm(big(x) << big(y));
  }
  if (I32(x)) return y >= 32 ? (x < 0 ? -1 : 0) : x >> Number(y);
  return norm(big(x) >> big(y));
}

/** The nearest float to x. */
export function intToFloat(x: Int): number {
  return typeof x === "number" ? x + 0 : Number(x);
}

/** Truncates a finite float to an int. */
export function floatToInt(f: number): Int {
  if (!Number.isFinite(f)) throw new StarError(`cannot convert float ${Number.isNaN(f) ? "NaN" : "infinity"} to integer`);
  const t = Math.trunc(f) + 0;
  return fits(t) ? t : BigInt(t);
}

export function intToString(x: Int, radix = 10): string {
  return x.toString(radix);
}
