/**
 * The math module gives Go's float64 results bit for bit (as starlark-go on amd64). The expected values are Go's,
 * computed over a grid by tests/fixtures/gomath/gen.go (regenerate: go run tests/fixtures/gomath/gen.go >
 * tests/fixtures/gomath/amd64.txt); each line is a function, its argument bits and Go's result bits in hex.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fma } from "../../src/starlark/modules/gomath.ts";
import { mathModule } from "../../src/starlark/modules/math.ts";
import { Builtin, Float, type Value } from "../../src/starlark/values/value.ts";

const view = new DataView(new ArrayBuffer(8));
function fromHex(h: string): number {
  view.setBigUint64(0, BigInt("0x" + h));
  return view.getFloat64(0);
}
function toHex(x: number): string {
  view.setFloat64(0, x);
  return view.getBigUint64(0).toString(16).padStart(16, "0");
}
/** Bits, except that every NaN is one value (Go and JS may differ in a NaN's payload and sign). */
function canonical(x: number): string {
  return Number.isNaN(x) ? "NaN" : toHex(x);
}

const byFunction = new Map<string, string[][]>();
for (const line of readFileSync(join(import.meta.dir, "../fixtures/gomath/amd64.txt"), "utf8").trim().split("\n")) {
  const [name, ...fields] = line.split(" ");
  if (!byFunction.has(name!)) byFunction.set(name!, []);
  byFunction.get(name!)!.push(fields);
}

function callMath(name: string, args: number[]): number {
  const fn = mathModule.members.get(name) as Builtin;
  const result: Value = fn.fn(null as never, args.map((x) => new Float(x)), [], fn);
  return result instanceof Float ? result.v : Number(result);
}

describe("math module results equal Go's on amd64", () => {
  for (const [name, rows] of byFunction) {
    test(`${name} over ${rows.length} inputs`, () => {
      const mismatches: string[] = [];
      for (const fields of rows) {
        const args = fields.slice(0, -1).map(fromHex);
        const want = fromHex(fields[fields.length - 1]!);
        let got: number;
        if (name === "fma") got = fma(args[0]!, args[1]!, args[2]!);
        else if (name === "logbase") {
          if (args[1] === 1) continue; // Starlark's log refuses base 1 (division by zero)
          got = callMath("log", args);
        } else got = callMath(name, args);
        if (canonical(got) !== canonical(want)) mismatches.push(`${name}(${args.join(", ")}) = ${got}, Go: ${want}`);
      }
      expect(mismatches).toEqual([]);
    });
  }
});
