/**
 * Starlark values. Primitive values are JS primitives for speed: `true`/`false` are bools, a JS `number` is an
 * int that fits in 53 bits, a `bigint` is an int beyond that (always normalized: a bigint never holds a value a
 * number could), a JS `string` is a string (see strings.ts). Everything else is an object implementing the small
 * `StarObject` interface plus optional capabilities (`Callable`, `HasAttrs`, `Indexable`, ...), like starlark-go's
 * Value and its capability interfaces.
 */
import { StarError } from "./errors.ts";

export interface StarObject {
  /** The name `type(x)` returns. */
  readonly type: string;
  truth(): boolean;
  freeze(): void;
}

export type Value = boolean | number | bigint | string | StarObject;

export class NoneType implements StarObject {
  readonly type = "NoneType";
  truth(): boolean {
    return false;
  }
  freeze(): void {}
}
export const None: Value = new NoneType();

export class Float implements StarObject {
  readonly type = "float";
  constructor(readonly v: number) {}
  truth(): boolean {
    return this.v !== 0;
  }
  freeze(): void {}
}

/** An immutable byte string. `s` holds one char (0..255) per byte. */
export class Bytes implements StarObject {
  readonly type = "bytes";
  constructor(readonly s: string) {}
  truth(): boolean {
    return this.s.length > 0;
  }
  freeze(): void {}
}

/** The execution context of one Starlark computation, as seen by builtins. */
export interface ThreadLike {
  print(msg: string): void;
  /** Calls any callable value. */
  call(fn: Value, args: Value[], kwargs: [string, Value][]): Value;
  /** Dialect options in force. */
  readonly options: { set?: boolean; recursion?: boolean };
  /** Free-form per-thread storage for hosts (e.g. the test runner). */
  locals: Map<string, unknown>;
  /** The active Starlark calls, outermost first, each at the position it is executing (starlark-go's CallStack). */
  callStack(): CallFrame[];
  /**
   * Calls fn as `call` does, but a Starlark error it raises comes back as `{ error }` (its message) with the call
   * stack as it was before the call, so the caller carries on (starlark-go's `catch` of its test harness).
   */
  tryCall(fn: Value, args: Value[], kwargs: [string, Value][]): { value: Value } | { error: string };
}

/** One entry of ThreadLike.callStack(). */
export interface CallFrame {
  fn: string;
  file: string;
  line: number;
  col: number;
}

export interface Callable extends StarObject {
  readonly name: string;
  call(thread: ThreadLike, args: Value[], kwargs: [string, Value][]): Value;
}

export interface HasAttrs extends StarObject {
  /** Returns the attribute or undefined when there is none. */
  attr(name: string): Value | undefined;
  attrNames(): string[];
}

export interface HasSetField extends HasAttrs {
  setField(name: string, v: Value): void;
}

/**
 * A host value that defines binary operators with other values (starlark-go's HasBinary). It is asked only when
 * the operator has no built-in meaning for the operands; `side` says which operand it is. Undefined declines.
 */
export interface HasBinary extends StarObject {
  binary(op: string, other: Value, side: "left" | "right"): Value | undefined;
}

/**
 * A host value that can be iterated (starlark-go's Iterable): its elements as an array, or as an iterator, which
 * may be endless (a for loop pulls only what it walks; builtins such as list() take everything).
 */
export interface HostIterable extends StarObject {
  iterate(): Value[] | Iterator<Value>;
}

export function isCallable(v: Value): v is Callable {
  return typeof v === "object" && typeof (v as Callable).call === "function";
}

export function hasAttrs(v: Value): v is HasAttrs {
  return typeof v === "object" && typeof (v as HasAttrs).attr === "function";
}

export class List implements StarObject {
  readonly type = "list";
  frozen = false;
  itercount = 0;
  constructor(public elems: Value[] = []) {}
  truth(): boolean {
    return this.elems.length > 0;
  }
  freeze(): void {
    if (this.frozen) return;
    this.frozen = true;
    for (const e of this.elems) freeze(e);
  }
  /** Throws unless the list may be mutated; verb is e.g. "append to". */
  checkMutable(verb: string): void {
    if (this.frozen) throw new StarError(`cannot ${verb} frozen list`);
    if (this.itercount > 0) throw new StarError(`cannot ${verb} list during iteration`);
  }
}

export class Tuple implements StarObject {
  readonly type = "tuple";
  constructor(readonly elems: Value[]) {}
  truth(): boolean {
    return this.elems.length > 0;
  }
  freeze(): void {
    for (const e of this.elems) freeze(e);
  }
}

export const EMPTY_TUPLE = new Tuple([]);

export class Range implements StarObject {
  readonly type = "range";
  readonly len: number;
  constructor(
    readonly start: number,
    readonly stop: number,
    readonly step: number,
  ) {
    let n = 0;
    if (step > 0 && start < stop) n = Math.floor((stop - start - 1) / step) + 1;
    else if (step < 0 && start > stop) n = Math.floor((start - stop - 1) / -step) + 1;
    this.len = n;
  }
  truth(): boolean {
    return this.len > 0;
  }
  freeze(): void {}
  at(i: number): number {
    return this.start + i * this.step;
  }
}

export function freeze(v: Value): void {
  if (typeof v === "object") v.freeze();
}

/** A function implemented in TypeScript. When `recv` is set, it is a bound method of that value. */
/** What a builtin's callback form yields: call `fn` with `args`, and resume the builtin with the result. */
export interface CallRequest {
  fn: Value;
  args: Value[];
}

/**
 * The calls a builtin still has to make into Starlark (sorted's and min's key=): a generator that yields each call
 * and returns the builtin's result. Wrapped so a body can tell it apart from a plain result.
 */
export class Callbacks {
  constructor(readonly calls: Generator<CallRequest, Value, Value>) {}
}

/**
 * The body of a builtin that may call back into Starlark: its result, or the Callbacks that produce it (only when
 * there is a function to call, so the common call without key= costs no generator). `withCallbacks` runs the calls
 * on the JS stack; the deep evaluator (eval/deep.ts) runs each on its explicit stack, so a recursion through the
 * builtin goes as deep as any other.
 */
export type CallbackBody = (thread: ThreadLike, args: Value[], kwargs: [string, Value][]) => Value | Callbacks;

/** A builtin function made from a callback body: `fn` makes each call at once; `callbacks` is the body itself. */
export function withCallbacks(name: string, body: CallbackBody): Builtin {
  const b = new Builtin(name, (thread, args, kwargs) => {
    const r = body(thread, args, kwargs);
    if (!(r instanceof Callbacks)) return r;
    let input: Value = None;
    for (;;) {
      const step = r.calls.next(input);
      if (step.done) return step.value;
      input = thread.call(step.value.fn, step.value.args, []);
    }
  });
  b.callbacks = body;
  return b;
}

export class Builtin implements Callable {
  readonly type = "builtin_function_or_method";
  /** Optional fast entry for a call with exactly one positional argument (same semantics as fn). */
  fast1?: (x: Value) => Value;
  /** Set by withCallbacks: the body of a builtin that calls Starlark functions. */
  callbacks?: CallbackBody;
  constructor(
    readonly name: string,
    readonly fn: (thread: ThreadLike, args: Value[], kwargs: [string, Value][], self: Builtin) => Value,
    readonly recv?: Value,
  ) {}
  truth(): boolean {
    return true;
  }
  freeze(): void {
    if (this.recv !== undefined) freeze(this.recv);
  }
  call(thread: ThreadLike, args: Value[], kwargs: [string, Value][]): Value {
    return this.fn(thread, args, kwargs, this);
  }
  bind(recv: Value): Builtin {
    return new Builtin(this.name, this.fn, recv);
  }
}

/** An immutable record of named fields: `struct(a=1)`. */
export class Struct implements HasAttrs {
  readonly type = "struct";
  readonly fields: Map<string, Value>;
  /** Set on the first freeze, so a struct that reaches itself (through a closure) is frozen once. */
  private frozen = false;
  constructor(
    fields: Record<string, Value> | Map<string, Value>,
    readonly constructorName = "struct",
  ) {
    const m = fields instanceof Map ? fields : new Map(Object.entries(fields));
    this.fields = new Map([...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  }
  truth(): boolean {
    return true;
  }
  freeze(): void {
    if (this.frozen) return;
    this.frozen = true;
    for (const v of this.fields.values()) freeze(v);
  }
  get(name: string): Value | undefined {
    return this.fields.get(name);
  }
  attr(name: string): Value | undefined {
    return this.fields.get(name);
  }
  attrNames(): string[] {
    return [...this.fields.keys()];
  }
}

/** A named collection of members, e.g. the `json` and `math` modules. */
export class Module implements HasAttrs {
  readonly type = "module";
  readonly members: Map<string, Value>;
  private frozen = false;
  constructor(
    readonly name: string,
    members: Record<string, Value>,
  ) {
    this.members = new Map(Object.entries(members));
  }
  truth(): boolean {
    return true;
  }
  freeze(): void {
    if (this.frozen) return;
    this.frozen = true;
    for (const v of this.members.values()) freeze(v);
  }
  attr(name: string): Value | undefined {
    return this.members.get(name);
  }
  attrNames(): string[] {
    return [...this.members.keys()].sort();
  }
}

const TYPE_OF_PRIMITIVE: Record<string, string> = { boolean: "bool", number: "int", bigint: "int", string: "string" };

export function typeName(v: Value): string {
  return typeof v === "object" ? v.type : TYPE_OF_PRIMITIVE[typeof v]!;
}

export function truth(v: Value): boolean {
  switch (typeof v) {
    case "boolean":
      return v;
    case "number":
      return v !== 0;
    case "string":
      return v.length > 0;
    case "bigint":
      return true; // normalized bigints are never zero
    default:
      return v.truth();
  }
}

export const isNone = (v: Value): boolean => v === None;
export const isBool = (v: Value): v is boolean => typeof v === "boolean";
export const isInt = (v: Value): v is number | bigint => typeof v === "number" || typeof v === "bigint";
export const isString = (v: Value): v is string => typeof v === "string";
export const isFloat = (v: Value): v is Float => v instanceof Float;
export const isList = (v: Value): v is List => v instanceof List;
export const isTuple = (v: Value): v is Tuple => v instanceof Tuple;
