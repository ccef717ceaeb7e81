/**
 * The built-in methods of string, bytes, list, dict and set, one table per type. A method receives its receiver
 * explicitly so the evaluator can call `x.f(...)` without allocating a bound method; `getattr(x, "f")` binds one.
 * String methods work on UTF-8 byte offsets: non-ASCII strings are converted to a one-char-per-byte form for the
 * index-sensitive operations.
 */
import { charge, SLOT_BYTES, STRING_BYTES } from "./budget.ts";
import { StarError } from "./errors.ts";
import { equals } from "./compare.ts";
import { Dict, StarSet } from "./hashtable.ts";
import { paramLabel, positional, unpackArgs, wantBool, wantInt, wantString } from "./args.ts";
import { strFormat, repr } from "./format.ts";
import * as S from "./strings.ts";
import { Builtin, Bytes, List, None, Tuple, typeName, type StarObject, type ThreadLike, type Value } from "./value.ts";
import { iterableElems, iterate, setDifference, setIntersection, setSymmetricDifference, setUnion, sliceIndices } from "./ops.ts";

export type MethodFn = (thread: ThreadLike, recv: any, args: Value[], kwargs: [string, Value][]) => Value;
export interface Method {
  name: string;
  fn: MethodFn;
}

export function bindMethod(m: Method, recv: Value): Builtin {
  return new Builtin(m.name, (t, a, k) => m.fn(t, recv, a, k), recv);
}

function table(entries: Record<string, MethodFn>): Map<string, Method> {
  const m = new Map<string, Method>();
  for (const name of Object.keys(entries).sort()) m.set(name, { name, fn: entries[name]! });
  return m;
}

// ---- byte-oriented helpers for strings ----

/** One char per UTF-8 byte. */
function bin(s: string): string {
  return S.isASCII(s) ? s : S.binaryOf(S.bytesOf(s));
}
function unbin(b: string, ascii: boolean): string {
  return ascii ? b : S.decodeUTF8(S.binaryToBytes(b));
}

/** Go's starlark `indices(start, end, n)`: clamps optional start/end into [0, n]. */
function indices(fn: string, start: Value | undefined, end: Value | undefined, n: number): [number, number] {
  const conv = (v: Value | undefined, dflt: number, what: string): number => {
    if (v === undefined || v === None) return dflt;
    // As starlark-go's asIndex: an int in the signed 32-bit range.
    if (typeof v === "bigint" || (typeof v === "number" && (v > 2147483647 || v < -2147483648))) {
      throw new StarError(`${fn}: invalid ${what} index: ${v} out of range`);
    }
    if (typeof v !== "number") throw new StarError(`${fn}: invalid ${what} index: got ${typeName(v)}, want int`);
    let i = v;
    if (i < 0) i += n;
    return i < 0 ? 0 : i > n ? n : i;
  };
  return [conv(start, 0, "start"), conv(end, n, "end")];
}

// Go's unicode.IsSpace: JS's \s without U+FEFF, plus U+0085 (NEL).
const SPACE = /\s/u;
const isSpace = (c: string): boolean => (SPACE.test(c) && c !== "\ufeff") || c === "\u0085";
const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;
const UPPER = /^\p{Lu}$/u;
const LOWER = /^\p{Ll}$/u;
const TITLE = /^\p{Lt}$/u;
/** starlark-go's isCasedRune: an upper, lower or title case letter. */
const CASED = /^[\p{Lu}\p{Ll}\p{Lt}]$/u;
const cased = (c: string): boolean => CASED.test(c);

function allRunes(s: string, pred: (c: string) => boolean): boolean {
  if (s === "") return false;
  for (const c of s) if (!pred(c)) return false;
  return true;
}

function stripChars(fn: string, s: string, chars: Value | undefined, left: boolean, right: boolean): string {
  let set: (c: string) => boolean;
  // As starlark-go: no argument or "" strips white space; None is not a string.
  const cs = chars === undefined ? "" : wantString(fn, "1", chars);
  if (cs === "") set = isSpace;
  else {
    const members = new Set(cs);
    set = (c) => members.has(c);
  }
  const runes = [...s];
  let i = 0,
    j = runes.length;
  if (left) while (i < j && set(runes[i]!)) i++;
  if (right) while (j > i && set(runes[j - 1]!)) j--;
  return runes.slice(i, j).join("");
}

function findImpl(fn: string, s: string, args: Value[], kwargs: [string, Value][], last: boolean): number {
  positional(fn, args, kwargs, 1, 3); // starlark-go unpacks string methods' arguments by position only
  const [sub, start, end] = args;
  const subS = wantString(fn, "1", sub!);
  const b = bin(s),
    sb = bin(subS);
  const [i, j] = indices(fn, start, end, b.length);
  if (j < i) return -1;
  const hay = b.slice(i, j);
  const k = last ? hay.lastIndexOf(sb) : hay.indexOf(sb);
  return k < 0 ? -1 : k + i;
}

function affixImpl(fn: string, s: string, args: Value[], kwargs: [string, Value][], suffix: boolean): boolean {
  positional(fn, args, kwargs, 1, 3);
  const [x, start, end] = args;
  const b = bin(s);
  const [i, j] = indices(fn, start, end, b.length);
  const hay = j < i ? "" : b.slice(i, j);
  const test = (p: string): boolean => {
    const pb = bin(p);
    if (j < i) return false;
    return suffix ? hay.endsWith(pb) : hay.startsWith(pb);
  };
  if (x instanceof Tuple) {
    return x.elems.some((p, k) => {
      if (typeof p !== "string") throw new StarError(`${fn}: want string, got ${typeName(p)}, for element ${k}`);
      return test(p);
    });
  }
  if (typeof x !== "string") throw new StarError(`${fn}: got ${typeName(x!)}, want string or tuple of string`);
  return test(x);
}

function splitImpl(fn: string, s: string, args: Value[], kwargs: [string, Value][], fromRight: boolean): Value {
  positional(fn, args, kwargs, 0, 2);
  const [sepV, maxV] = args;
  const max = maxV === undefined ? -1 : wantInt(fn, "2", maxV);
  if (sepV === undefined || sepV === None) {
    // Split on runs of white space.
    const runes = [...s];
    const fields: string[] = [];
    if (!fromRight) {
      let i = 0;
      while (i < runes.length) {
        while (i < runes.length && isSpace(runes[i]!)) i++;
        if (i >= runes.length) break;
        if (max >= 0 && fields.length === max) {
          fields.push(runes.slice(i).join(""));
          break;
        }
        let j = i;
        while (j < runes.length && !isSpace(runes[j]!)) j++;
        fields.push(runes.slice(i, j).join(""));
        i = j;
      }
      return new List(fields);
    }
    let j = runes.length;
    while (j > 0) {
      while (j > 0 && isSpace(runes[j - 1]!)) j--;
      if (j <= 0) break;
      if (max >= 0 && fields.length === max) {
        fields.push(runes.slice(0, j).join(""));
        break;
      }
      let i = j;
      while (i > 0 && !isSpace(runes[i - 1]!)) i--;
      fields.push(runes.slice(i, j).join(""));
      j = i;
    }
    return new List(fields.reverse());
  }
  if (typeof sepV !== "string") throw new StarError(`split: got ${typeName(sepV)} for separator, want string`);
  const sep = sepV;
  if (sep === "") throw new StarError(`${fn}: empty separator`);
  if (max < 0) return new List(s.split(sep));
  if (!fromRight) {
    const out: string[] = [];
    let rest = s;
    while (out.length < max) {
      const k = rest.indexOf(sep);
      if (k < 0) break;
      out.push(rest.slice(0, k));
      rest = rest.slice(k + sep.length);
    }
    out.push(rest);
    return new List(out);
  }
  const out: string[] = [];
  let rest = s;
  while (out.length < max) {
    const k = rest.lastIndexOf(sep);
    if (k < 0) break;
    out.push(rest.slice(k + sep.length));
    rest = rest.slice(0, k);
  }
  out.push(rest);
  return new List(out.reverse());
}


/** The iterable views returned by elems/codepoints/elem_ords/codepoint_ords. */
export class StringView implements StarObject {
  readonly type: string;
  constructor(
    readonly s: string,
    readonly kind: "elems" | "elem_ords" | "codepoints" | "codepoint_ords",
    readonly isBytes = false,
  ) {
    // As in starlark-go, the *_ords views share the type of their substring twins.
    this.type = (isBytes ? "bytes." : "string.") + (kind === "elems" || kind === "elem_ords" ? "elems" : "codepoints");
  }
  truth(): boolean {
    return true;
  }
  freeze(): void {}
  toRepr(): string {
    return (this.isBytes ? repr(new Bytes(this.s)) : repr(this.s)) + "." + this.kind + "()";
  }
  /**
   * starlark-go compares these views (Go structs without a comparison method) by their fields: the same string
   * seen the same way is equal.
   */
  sameAs(o: StringView): boolean {
    return this.s === o.s && this.kind === o.kind && this.isBytes === o.isBytes;
  }
  /** elems and elem_ords are sequences (indexable, with a length); codepoints views are only iterable. */
  private get indexable(): boolean {
    return this.kind === "elems" || this.kind === "elem_ords";
  }
  len(): number {
    if (!this.indexable) throw new StarError(`len: value of type ${this.type} has no len`);
    return this.isBytes ? this.s.length : S.strLen(this.s);
  }
  index(y: Value): Value {
    if (!this.indexable) throw new StarError(`unhandled index operation ${this.type}[${typeName(y)}]`);
    if (typeof y !== "number") throw new StarError(`${this.type} index: got ${typeName(y)}, want int`);
    const b = this.isBytes ? S.binaryToBytes(this.s) : S.bytesOf(this.s);
    const n = b.length;
    const i = y < 0 ? y + n : y;
    if (i < 0 || i >= n) {
      throw new StarError(n === 0 ? `index ${y} out of range: empty ${this.type}` : `${this.type} index ${y} out of range [${-n}:${n - 1}]`);
    }
    if (this.kind === "elem_ords" || this.isBytes) return b[i]!;
    return S.decodeUTF8(b, i, i + 1);
  }
  iterate(): Value[] {
    const out: Value[] = [];
    if (this.isBytes) {
      for (let i = 0; i < this.s.length; i++) out.push(this.s.charCodeAt(i));
      return out;
    }
    const b = S.bytesOf(this.s);
    switch (this.kind) {
      case "elems":
        for (let i = 0; i < b.length; i++) out.push(S.decodeUTF8(b, i, i + 1));
        break;
      case "elem_ords":
        for (let i = 0; i < b.length; i++) out.push(b[i]!);
        break;
      default:
        for (let i = 0; i < b.length; ) {
          const [r, n] = S.decodeRune(b, i);
          out.push(this.kind === "codepoints" ? (r === 0xfffd && n === 1 ? S.decodeUTF8(b, i, i + 1) : String.fromCodePoint(r)) : r);
          i += n;
        }
    }
    return out;
  }
}

/** The length of s.replace(old, new, count), worked out without building it (for the memory budget). */
function replacedSize(s: string, old: string, rep: string, count: number): number {
  if (rep.length <= old.length) return s.length;
  let hits = 0;
  if (old === "") hits = s.length + 1;
  else for (let i = s.indexOf(old); i >= 0 && hits !== count; i = s.indexOf(old, i + old.length)) hits++;
  if (count >= 0 && hits > count) hits = count;
  return s.length + hits * (rep.length - old.length);
}

export const stringMethods = table({
  capitalize(_t, s: string, a, k) {
    positional("capitalize", a, k, 0, 0);
    charge(s.length * 2);
    const runes = [...s];
    if (runes.length === 0) return "";
    return S.titleRune(runes[0]!) + S.lowerString(runes.slice(1).join(""));
  },
  codepoint_ords(_t, s: string, a, k) {
    positional("codepoint_ords", a, k, 0, 0);
    return new StringView(s, "codepoint_ords");
  },
  codepoints(_t, s: string, a, k) {
    positional("codepoints", a, k, 0, 0);
    return new StringView(s, "codepoints");
  },
  count(_t, s: string, a, k) {
    positional("count", a, k, 1, 3);
    const [sub, start, end] = a;
    const subS = wantString("count", "1", sub!);
    const b = bin(s);
    const [i, j] = indices("count", start, end, b.length);
    if (j < i) return 0;
    const hay = S.decodeUTF8(S.binaryToBytes(b.slice(i, j)));
    if (subS === "") return [...hay].length + 1;
    return hay.split(subS).length - 1;
  },
  elem_ords(_t, s: string, a, k) {
    positional("elem_ords", a, k, 0, 0);
    return new StringView(s, "elem_ords");
  },
  elems(_t, s: string, a, k) {
    positional("elems", a, k, 0, 0);
    return new StringView(s, "elems");
  },
  endswith: (_t, s: string, a, k) => affixImpl("endswith", s, a, k, true),
  find: (_t, s: string, a, k) => findImpl("find", s, a, k, false),
  format(_t, s: string, a, k) {
    const out = strFormat(s, a, k);
    charge(STRING_BYTES + out.length);
    return out;
  },
  index(_t, s: string, a, k) {
    const i = findImpl("index", s, a, k, false);
    if (i < 0) throw new StarError("index: substring not found");
    return i;
  },
  isalnum(_t, s: string, a, k) {
    positional("isalnum", a, k, 0, 0);
    return allRunes(s, (c) => LETTER.test(c) || DIGIT.test(c));
  },
  isalpha(_t, s: string, a, k) {
    positional("isalpha", a, k, 0, 0);
    return allRunes(s, (c) => LETTER.test(c));
  },
  isdigit(_t, s: string, a, k) {
    positional("isdigit", a, k, 0, 0);
    return allRunes(s, (c) => DIGIT.test(c));
  },
  islower(_t, s: string, a, k) {
    positional("islower", a, k, 0, 0);
    return [...s].some(cased) && S.lowerString(s) === s;
  },
  isspace(_t, s: string, a, k) {
    positional("isspace", a, k, 0, 0);
    return allRunes(s, isSpace);
  },
  istitle(_t, s: string, a, k) {
    positional("istitle", a, k, 0, 0);
    // Upper/title case letters only after uncased ones, lower case only after cased ones. As in starlark-go, an
    // upper case letter starts a word only when it is ASCII or title case ("ǅ"): "Ǆ" (upper, not title) never does.
    let prevCased = false,
      any = false;
    for (const c of s) {
      if ((c >= "A" && c <= "Z") || TITLE.test(c)) {
        if (prevCased) return false;
        prevCased = true;
        any = true;
      } else if (LOWER.test(c)) {
        if (!prevCased) return false;
        prevCased = true;
        any = true;
      } else if (UPPER.test(c)) return false;
      else prevCased = false;
    }
    return any;
  },
  isupper(_t, s: string, a, k) {
    positional("isupper", a, k, 0, 0);
    return [...s].some(cased) && S.upperString(s) === s;
  },
  join(_t, s: string, a, k) {
    positional("join", a, k, 1, 1);
    const es = iterate(a[0]!, "join");
    const parts = new Array<string>(es.length);
    for (let i = 0; i < es.length; i++) {
      const e = es[i]!;
      if (typeof e !== "string") throw new StarError(`join: in list, want string, got ${typeName(e)}`);
      parts[i] = e;
    }
    let size = s.length * Math.max(0, parts.length - 1);
    for (let i = 0; i < parts.length; i++) size += parts[i]!.length;
    charge(size);
    return parts.join(s);
  },
  lower(_t, s: string, a, k) {
    positional("lower", a, k, 0, 0);
    charge(s.length);
    return S.lowerString(s);
  },
  lstrip(_t, s: string, a, k) {
    positional("lstrip", a, k, 0, 1);
    return stripChars("lstrip", s, a[0], true, false);
  },
  partition(_t, s: string, a, k) {
    positional("partition", a, k, 1, 1);
    const sep = wantString("partition", "1", a[0]!);
    if (sep === "") throw new StarError("partition: empty separator");
    const i = s.indexOf(sep);
    if (i < 0) return new Tuple([s, "", ""]);
    return new Tuple([s.slice(0, i), sep, s.slice(i + sep.length)]);
  },
  removeprefix(_t, s: string, a, k) {
    positional("removeprefix", a, k, 1, 1);
    const p = wantString("removeprefix", "1", a[0]!);
    return s.startsWith(p) ? s.slice(p.length) : s;
  },
  removesuffix(_t, s: string, a, k) {
    positional("removesuffix", a, k, 1, 1);
    const p = wantString("removesuffix", "1", a[0]!);
    return p !== "" && s.endsWith(p) ? s.slice(0, s.length - p.length) : s;
  },
  replace(_t, s: string, a, k) {
    positional("replace", a, k, 2, 3);
    const [oldV, newV, countV] = a;
    const o = wantString("replace", "1", oldV!),
      n = wantString("replace", "2", newV!);
    const count = countV === undefined ? -1 : wantInt("replace", "3", countV);
    charge(replacedSize(s, o, n, count));
    if (count < 0) {
      if (o === "") return n + [...s].join(n) + (s === "" ? "" : n);
      return s.split(o).join(n);
    }
    let out = "",
      rest = s,
      done = 0;
    if (o === "") {
      const runes = [...s];
      let i = 0;
      for (; done < count && i <= runes.length; done++) out += n + (i < runes.length ? runes[i] : ""), i++;
      return out + runes.slice(i).join("");
    }
    while (done < count) {
      const i = rest.indexOf(o);
      if (i < 0) break;
      out += rest.slice(0, i) + n;
      rest = rest.slice(i + o.length);
      done++;
    }
    return out + rest;
  },
  rfind: (_t, s: string, a, k) => findImpl("rfind", s, a, k, true),
  rindex(_t, s: string, a, k) {
    const i = findImpl("rindex", s, a, k, true);
    if (i < 0) throw new StarError("rindex: substring not found");
    return i;
  },
  rpartition(_t, s: string, a, k) {
    positional("rpartition", a, k, 1, 1);
    const sep = wantString("rpartition", "1", a[0]!);
    if (sep === "") throw new StarError("rpartition: empty separator");
    const i = s.lastIndexOf(sep);
    if (i < 0) return new Tuple(["", "", s]);
    return new Tuple([s.slice(0, i), sep, s.slice(i + sep.length)]);
  },
  rsplit: (_t, s: string, a, k) => splitImpl("rsplit", s, a, k, true),
  rstrip(_t, s: string, a, k) {
    positional("rstrip", a, k, 0, 1);
    return stripChars("rstrip", s, a[0], false, true);
  },
  split: (_t, s: string, a, k) => splitImpl("split", s, a, k, false),
  splitlines(_t, s: string, a, k) {
    positional("splitlines", a, k, 0, 1);
    const keepends = a[0] !== undefined && wantBool("splitlines", "1", a[0]);
    if (s === "") return new List([]);
    const lines = s.split("\n");
    if (keepends) for (let i = 0; i < lines.length - 1; i++) lines[i] += "\n";
    if (s.endsWith("\n")) lines.pop();
    return new List(lines);
  },
  startswith: (_t, s: string, a, k) => affixImpl("startswith", s, a, k, false),
  strip(_t, s: string, a, k) {
    positional("strip", a, k, 0, 1);
    return stripChars("strip", s, a[0], true, true);
  },
  title(_t, s: string, a, k) {
    positional("title", a, k, 0, 0);
    charge(s.length);
    let out = "",
      prevCased = false;
    for (const c of s) {
      const r = prevCased ? S.lowerRune(c) : S.titleRune(c);
      prevCased = cased(r);
      out += r;
    }
    return out;
  },
  upper(_t, s: string, a, k) {
    positional("upper", a, k, 0, 0);
    charge(s.length);
    return S.upperString(s);
  },
});

export const bytesMethods = table({
  elems(_t, b: Bytes, a, k) {
    positional("elems", a, k, 0, 0);
    return new StringView(b.s, "elems", true);
  },
});

// ---- list ----

function absIndex(fn: string, i: number, n: number): number {
  const j = i < 0 ? i + n : i;
  if (j < 0 || j >= n) {
    if (n === 0) throw new StarError(`${fn}: index ${i} out of range: empty list`);
    throw new StarError(`${fn}: list index ${i} out of range [${-n}:${n - 1}]`);
  }
  return j;
}

export const listMethods = table({
  append(_t, l: List, a, k) {
    positional("append", a, k, 1, 1);
    if (l.frozen || l.itercount > 0) prefixed("append", () => l.checkMutable("append to"));
    charge(SLOT_BYTES);
    l.elems.push(a[0]!);
    return None;
  },
  clear(_t, l: List, a, k) {
    positional("clear", a, k, 0, 0);
    prefixed("clear", () => l.checkMutable("clear"));
    l.elems.length = 0;
    return None;
  },
  extend(_t, l: List, a, k) {
    positional("extend", a, k, 1, 1);
    prefixed("extend", () => l.checkMutable("extend"));
    const es = iterate(a[0]!, "extend");
    charge(es.length * SLOT_BYTES);
    for (let i = 0, n = es.length; i < n; i++) l.elems.push(es[i]!);
    return None;
  },
  index(_t, l: List, a, k) {
    positional("index", a, k, 1, 3);
    const [i, j] = indices("index", a[1], a[2], l.elems.length);
    for (let x = i; x < j; x++) if (equals(l.elems[x]!, a[0]!)) return x;
    throw new StarError(`index: value not in list`);
  },
  insert(_t, l: List, a, k) {
    positional("insert", a, k, 2, 2);
    prefixed("insert", () => l.checkMutable("insert into"));
    let i = wantInt("insert", "1", a[0]!);
    const n = l.elems.length;
    if (i < 0) i += n;
    if (i < 0) i = 0;
    if (i > n) i = n;
    charge(SLOT_BYTES);
    l.elems.splice(i, 0, a[1]!);
    return None;
  },
  pop(_t, l: List, a, k) {
    positional("pop", a, k, 0, 1);
    prefixed("pop", () => l.checkMutable("pop from"));
    const n = l.elems.length;
    const i = a.length > 0 ? wantInt("pop", "1", a[0]!) : n - 1;
    const j = absIndex("pop", a.length > 0 ? i : n === 0 ? -1 : i, n);
    return l.elems.splice(j, 1)[0]!;
  },
  remove(_t, l: List, a, k) {
    positional("remove", a, k, 1, 1);
    prefixed("remove", () => l.checkMutable("remove from"));
    for (let i = 0; i < l.elems.length; i++) {
      if (equals(l.elems[i]!, a[0]!)) {
        l.elems.splice(i, 1);
        return None;
      }
    }
    throw new StarError(`remove: element not found`);
  },
});

function prefixed<T>(fn: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof StarError) e.message = `${fn}: ${e.message}`;
    throw e;
  }
}

// ---- dict ----

/** dict(...) and dict.update(...): errors carry the function's name `fn` as their prefix, as in starlark-go. */
export function dictUpdate(fn: string, d: Dict, args: Value[], kwargs: [string, Value][]): void {
  prefixed(fn, () => updateDict(d, args, kwargs));
}

function updateDict(d: Dict, args: Value[], kwargs: [string, Value][]): void {
  if (args.length > 1) throw new StarError(`got ${args.length} arguments, want at most 1`);
  if (args.length === 1) {
    const x = args[0]!;
    if (x instanceof Dict) {
      for (const [k, v] of x.ht.entries()) d.ht.set(k, v);
    } else {
      const es = iterableElems(x);
      if (es === undefined) throw new StarError(`got ${typeName(x)}, want iterable`);
      for (let i = 0; i < es.length; i++) {
        const p = es[i]!;
        const pair = p instanceof Tuple || p instanceof List ? p.elems : iterableElems(p);
        if (pair === undefined) throw new StarError(`dictionary update sequence element #${i} is not iterable (${typeName(p)})`);
        if (pair.length !== 2) throw new StarError(`dictionary update sequence element #${i} has length ${pair.length}, want 2`);
        d.ht.set(pair[0]!, pair[1]!);
      }
    }
  }
  const before = d.ht.count;
  for (const [key, v] of kwargs) d.ht.set(key, v);
  // A keyword that added no entry either replaced a positional key (allowed) or repeats another keyword.
  if (d.ht.count < before + kwargs.length) {
    const seen = new Set<string>();
    for (const [key] of kwargs) {
      if (seen.has(key)) throw new StarError(`duplicate keyword arg: ${repr(key)}`);
      seen.add(key);
    }
  }
}

export const dictMethods = table({
  clear(_t, d: Dict, a, k) {
    positional("clear", a, k, 0, 0);
    // starlark-go's dict.clear returns the table's error as it is (list.clear and set.clear name themselves).
    d.ht.clear();
    return None;
  },
  get(_t, d: Dict, a, k) {
    positional("get", a, k, 1, 2);
    const v = prefixed("get", () => d.ht.get(a[0]!));
    return v !== undefined ? v : a.length > 1 ? a[1]! : None;
  },
  items(_t, d: Dict, a, k) {
    positional("items", a, k, 0, 0);
    const ks = d.ht.ks,
      vs = d.ht.vs;
    const out: Value[] = [];
    for (let e = 0; e < ks.length; e++) if (ks[e] !== undefined) out.push(new Tuple([ks[e]!, vs[e]!]));
    return new List(out);
  },
  keys(_t, d: Dict, a, k) {
    positional("keys", a, k, 0, 0);
    return new List(d.ht.keys());
  },
  pop(_t, d: Dict, a, k) {
    positional("pop", a, k, 1, 2);
    let v: Value | undefined;
    prefixed("pop", () => {
      v = d.ht.delete(a[0]!);
    });
    if (v !== undefined) return v;
    if (a.length > 1) return a[1]!;
    throw new StarError(`pop: missing key`);
  },
  popitem(_t, d: Dict, a, k) {
    positional("popitem", a, k, 0, 0);
    prefixed("popitem", () => d.ht.checkMutable("delete from"));
    const e = d.ht.first();
    if (e < 0) throw new StarError("popitem: empty dict");
    const key = d.ht.ks[e]!;
    return new Tuple([key, d.ht.deleteAt(e)]);
  },
  setdefault(_t, d: Dict, a, k) {
    positional("setdefault", a, k, 1, 2); // positional only, as in starlark-go
    const key = a[0]!;
    const v = prefixed("setdefault", () => d.ht.get(key));
    if (v !== undefined) return v;
    const nv = a.length > 1 ? a[1]! : None;
    prefixed("setdefault", () => d.ht.set(key, nv));
    return nv;
  },
  update(_t, d: Dict, a, k) {
    dictUpdate("update", d, a, k);
    return None;
  },
  values(_t, d: Dict, a, k) {
    positional("values", a, k, 0, 0);
    return new List(d.ht.values());
  },
});

// ---- set ----

/** Adds the elements of every iterable argument to s (set.update and set.union), with starlark-go's messages. */
function setUpdate(fn: string, s: StarSet, args: Value[], kwargs: [string, Value][]): void {
  if (kwargs.length > 0) throw new StarError(`${fn}: unexpected keyword arguments`);
  const iterables = args.map((x, i) => iterate(x, fn, String(i + 1)));
  prefixed(fn, () => {
    for (const es of iterables) for (const v of es) s.add(v);
  });
}

/** The iterable arguments of a set method, checked as starlark-go's positional unpacking does. */
function iterableArgs(fn: string, args: Value[]): void {
  for (let i = 0; i < args.length; i++) iterate(args[i]!, fn, String(i + 1));
}

export const setMethods = table({
  add(_t, s: StarSet, a, k) {
    positional("add", a, k, 1, 1);
    prefixed("add", () => s.add(a[0]!));
    return None;
  },
  clear(_t, s: StarSet, a, k) {
    positional("clear", a, k, 0, 0);
    // starlark-go clears (and checks mutability) only a non-empty set.
    if (s.ht.count > 0) prefixed("clear", () => s.ht.clear());
    return None;
  },
  difference(_t, s: StarSet, a, k) {
    positional("difference", a, k, 0, 1);
    iterableArgs("difference", a);
    return prefixed("difference", () => setDifference(s, a));
  },
  discard(_t, s: StarSet, a, k) {
    positional("discard", a, k, 1, 1);
    // Like starlark-go: a frozen set or an unhashable value fails even when the value is absent.
    prefixed("discard", () => s.ht.delete(a[0]!));
    return None;
  },
  intersection(_t, s: StarSet, a, k) {
    positional("intersection", a, k, 0, 1);
    iterableArgs("intersection", a);
    return prefixed("intersection", () => setIntersection(s, a));
  },
  issubset(_t, s: StarSet, a, k) {
    positional("issubset", a, k, 1, 1);
    iterableArgs("issubset", a);
    const other = prefixed("issubset", () => setUnion(new StarSet(), [a[0]!]));
    for (const k of s.ht.keys()) if (!other.ht.has(k)) return false;
    return true;
  },
  issuperset(_t, s: StarSet, a, k) {
    positional("issuperset", a, k, 1, 1);
    for (const v of iterate(a[0]!, "issuperset")) if (!s.ht.has(v)) return false;
    return true;
  },
  pop(_t, s: StarSet, a, k) {
    positional("pop", a, k, 0, 0);
    prefixed("pop", () => s.ht.checkMutable("delete from"));
    const e = s.ht.first();
    if (e < 0) throw new StarError("pop: empty set");
    const x = s.ht.ks[e]!;
    s.ht.deleteAt(e);
    return x;
  },
  remove(_t, s: StarSet, a, k) {
    positional("remove", a, k, 1, 1);
    prefixed("remove", () => s.ht.checkMutable("delete from"));
    if (!s.ht.has(a[0]!)) throw new StarError(`remove: missing key`);
    s.ht.delete(a[0]!);
    return None;
  },
  symmetric_difference(_t, s: StarSet, a, k) {
    positional("symmetric_difference", a, k, 1, 1);
    iterableArgs("symmetric_difference", a);
    return prefixed("symmetric_difference", () => setSymmetricDifference(s, a[0]!));
  },
  union(_t, s: StarSet, a, k) {
    const out = setUnion(s, []);
    setUpdate("union", out, a, k);
    return out;
  },
  update(_t, s: StarSet, a, k) {
    setUpdate("update", s, a, k);
    return None;
  },
});

export function methodsOf(x: Value): Map<string, Method> | undefined {
  if (typeof x === "string") return stringMethods;
  if (x instanceof List) return listMethods;
  if (x instanceof Dict) return dictMethods;
  if (x instanceof StarSet) return setMethods;
  if (x instanceof Bytes) return bytesMethods;
  return undefined;
}

export { S as strings };
