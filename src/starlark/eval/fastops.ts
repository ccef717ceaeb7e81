/**
 * Specialized closures for the commonest binary expressions in loops and recursive functions: an arithmetic
 * or comparison operator whose operands are local variables or small int constants (`i + 1`, `n < 2`,
 * `x % 3`, `a + b`). Reading the operands inline instead of through one closure call each halves the closure
 * calls of such an expression. Anything but small ints falls back to the general path with the same semantics
 * and error positions (an unbound local reports "referenced before assignment" at the name).
 */
import type * as A from "../syntax/ast.ts";
import { binary } from "../values/ops.ts";
import { intAdd, intMul, intSub, norm, type Int } from "../values/int.ts";
import { compare, type CompareOp } from "../values/compare.ts";
import type { Value } from "../values/value.ts";
import { annotate, errorAt, type Expr, type Frame } from "./thread.ts";

const MAX = 9007199254740991;

/** The operand shapes handled here: a local slot, or an int constant that fits in 31 bits. */
export interface Operand {
  slot: number; // local slot, or -1 for a constant
  c: number;
  name: string;
  pos: A.Pos;
}

export function operandOf(e: A.Expr): Operand | undefined {
  while (e.kind === "ParenExpr") e = e.x;
  if (e.kind === "Ident" && e.binding?.scope === "local") return { slot: e.binding.index, c: 0, name: e.name, pos: e.start };
  if (e.kind === "Literal" && e.type === "int" && typeof e.value === "number" && Math.abs(e.value) < 0x40000000) {
    return { slot: -1, c: e.value, name: "", pos: e.start };
  }
  return undefined;
}

function unbound(fr: Frame, o: Operand): never {
  throw errorAt(fr, o.pos, `local variable ${o.name} referenced before assignment`);
}

/** Ints, at least one of them a bigint: the big-int paths go straight to int.ts, not through `binary`. */
function bigOperands(a: Value | undefined, b: Value | undefined): boolean {
  return typeof a === "bigint" ? typeof b === "number" || typeof b === "bigint" : typeof b === "bigint" && typeof a === "number";
}

/** The general path, given the operands' values (undefined = an unbound local). */
function slow(fr: Frame, pos: A.Pos, op: string, a: Value | undefined, b: Value | undefined, x: Operand, y: Operand): Value {
  if (a === undefined) unbound(fr, x);
  if (b === undefined) unbound(fr, y);
  try {
    if (op === "<" || op === "<=" || op === ">" || op === ">=" || op === "==" || op === "!=") return compare(op as CompareOp, a, b);
    return binary(op, a, b);
  } catch (err) {
    throw annotate(err, fr, pos);
  }
}

/** A specialized closure for `x op y`, or undefined when the shape is not one handled here. */
export function fastBinary(op: string, xe: A.Expr, ye: A.Expr, pos: A.Pos): Expr | undefined {
  const x = operandOf(xe),
    y = operandOf(ye);
  if (x === undefined || y === undefined || x.slot < 0) return undefined;
  const i = x.slot;
  if (y.slot < 0) {
    const c = y.c;
    const cb = BigInt(c); // for a big-int operand (x * 3 in a big-int loop): converted once, here
    switch (op) {
      case "+":
        return (fr) => {
          const a = fr.l[i];
          if (typeof a === "number") {
            const z = a + c;
            if (z <= MAX && z >= -MAX) return z;
          } else if (typeof a === "bigint") return norm(a + cb);
          return slow(fr, pos, op, a, c, x, y);
        };
      case "-":
        return (fr) => {
          const a = fr.l[i];
          if (typeof a === "number") {
            const z = a - c;
            if (z <= MAX && z >= -MAX) return z;
          } else if (typeof a === "bigint") return norm(a - cb);
          return slow(fr, pos, op, a, c, x, y);
        };
      case "*":
        return (fr) => {
          const a = fr.l[i];
          if (typeof a === "number") {
            const z = a * c;
            if (z <= MAX && z >= -MAX) return z;
          } else if (typeof a === "bigint") return c !== 0 ? a * cb : 0; // |a| > 2^53: a nonzero multiple never fits
          return slow(fr, pos, op, a, c, x, y);
        };
      case "%":
        if (c <= 0) return undefined;
        return (fr) => {
          const a = fr.l[i];
          if (typeof a === "number" && a >= 0) return a % c;
          return slow(fr, pos, op, a, c, x, y);
        };
      case "<":
        return (fr) => {
          const a = fr.l[i];
          return typeof a === "number" ? a < c : slow(fr, pos, op, a, c, x, y);
        };
      case "<=":
        return (fr) => {
          const a = fr.l[i];
          return typeof a === "number" ? a <= c : slow(fr, pos, op, a, c, x, y);
        };
      case ">":
        return (fr) => {
          const a = fr.l[i];
          return typeof a === "number" ? a > c : slow(fr, pos, op, a, c, x, y);
        };
      case ">=":
        return (fr) => {
          const a = fr.l[i];
          return typeof a === "number" ? a >= c : slow(fr, pos, op, a, c, x, y);
        };
      case "==":
        return (fr) => {
          const a = fr.l[i];
          return typeof a === "number" ? a === c : slow(fr, pos, op, a, c, x, y);
        };
      case "!=":
        return (fr) => {
          const a = fr.l[i];
          return typeof a === "number" ? a !== c : slow(fr, pos, op, a, c, x, y);
        };
    }
    return undefined;
  }
  const j = y.slot;
  switch (op) {
    case "+":
      return (fr) => {
        const l = fr.l;
        const a = l[i],
          b = l[j];
        if (typeof a === "number" && typeof b === "number") {
          const z = a + b;
          if (z <= MAX && z >= -MAX) return z;
        } else if (typeof a === "bigint" && typeof b === "bigint") return norm(a + b);
        else if (bigOperands(a, b)) return intAdd(a as Int, b as Int);
        return slow(fr, pos, op, a, b, x, y);
      };
    case "-":
      return (fr) => {
        const l = fr.l;
        const a = l[i],
          b = l[j];
        if (typeof a === "number" && typeof b === "number") {
          const z = a - b;
          if (z <= MAX && z >= -MAX) return z;
        } else if (bigOperands(a, b)) return intSub(a as Int, b as Int);
        return slow(fr, pos, op, a, b, x, y);
      };
    case "*":
      return (fr) => {
        const l = fr.l;
        const a = l[i],
          b = l[j];
        if (typeof a === "number" && typeof b === "number") {
          const z = a * b;
          if (z <= MAX && z >= -MAX) return z;
        } else if (bigOperands(a, b)) return intMul(a as Int, b as Int);
        return slow(fr, pos, op, a, b, x, y);
      };
    case "<":
      return (fr) => {
        const l = fr.l;
        const a = l[i],
          b = l[j];
        return typeof a === "number" && typeof b === "number" ? a < b : slow(fr, pos, op, a, b, x, y);
      };
    case "<=":
      return (fr) => {
        const l = fr.l;
        const a = l[i],
          b = l[j];
        return typeof a === "number" && typeof b === "number" ? a <= b : slow(fr, pos, op, a, b, x, y);
      };
    case ">":
      return (fr) => {
        const l = fr.l;
        const a = l[i],
          b = l[j];
        return typeof a === "number" && typeof b === "number" ? a > b : slow(fr, pos, op, a, b, x, y);
      };
    case ">=":
      return (fr) => {
        const l = fr.l;
        const a = l[i],
          b = l[j];
        return typeof a === "number" && typeof b === "number" ? a >= b : slow(fr, pos, op, a, b, x, y);
      };
  }
  return undefined;
}
