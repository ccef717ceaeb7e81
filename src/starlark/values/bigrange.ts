/**
 * A range whose bounds do not all fit in a JS number (starlark-go's ranges take 64-bit ints). The ordinary
 * `Range` keeps number fields for the evaluator's loops; this one is the rare case and works in bigints. It
 * has the same type name, printing, indexing, slicing, membership and equality as `Range`.
 */
import { StarError } from "./errors.ts";
import { norm, type Int } from "./int.ts";
import type { StarObject, Value } from "./value.ts";

const MIN64 = -(1n << 63n),
  MAX64 = (1n << 63n) - 1n;
/** Materializing more elements than this (to iterate) is refused, like any other excessive allocation. */
const MAX_ITER = 1n << 30n;

export function fitsInt64(x: bigint): boolean {
  return x >= MIN64 && x <= MAX64;
}

export class BigRange implements StarObject {
  readonly type = "range";
  readonly n: bigint;
  constructor(
    readonly start: bigint,
    readonly stop: bigint,
    readonly step: bigint,
  ) {
    let n = 0n;
    if (step > 0n && start < stop) n = (stop - start - 1n) / step + 1n;
    else if (step < 0n && start > stop) n = (start - stop - 1n) / -step + 1n;
    this.n = n;
  }
  truth(): boolean {
    return this.n > 0n;
  }
  freeze(): void {}
  len(): Int {
    return norm(this.n);
  }
  at(i: bigint): Int {
    return norm(this.start + i * this.step);
  }
  index(y: Value): Value {
    if (typeof y !== "number" && typeof y !== "bigint") throw new StarError(`range index: got ${typeof y === "object" ? y.type : typeof y}, want int`);
    let i = BigInt(y);
    if (i < 0n) i += this.n;
    if (i < 0n || i >= this.n) throw new StarError(`range index ${y} out of range [${-this.n}:${this.n - 1n}]`);
    return this.at(i);
  }
  contains(x: Int): boolean {
    if (this.n === 0n) return false;
    const off = BigInt(x) - this.start;
    if (off % this.step !== 0n) return false;
    const i = off / this.step;
    return i >= 0n && i < this.n;
  }
  iterate(): Value[] {
    if (this.n > MAX_ITER) throw new StarError(`range of ${this.n} elements is too large to iterate`);
    const out = new Array<Value>(Number(this.n));
    for (let i = 0; i < out.length; i++) out[i] = this.at(BigInt(i));
    return out;
  }
  toRepr(): string {
    const { start, stop, step } = this;
    return step !== 1n ? `range(${start}, ${stop}, ${step})` : start !== 0n ? `range(${start}, ${stop})` : `range(${stop})`;
  }
  equals(o: BigRange): boolean {
    if (this.n !== o.n) return false;
    if (this.n === 0n) return true;
    return this.start === o.start && (this.n === 1n || this.step === o.step);
  }
}
