/**
 * Go's text/template language, as far as Clace's specs and docs use it: `cl_secret` files rendered with
 * `{params: env}` and `{{secret ...}}` values in params and build args.
 *
 * Supported: text and actions with trim markers (`{{- x -}}`), comments, pipelines (`a | b`), parenthesized
 * pipelines, field chains (`.params.KEY`, `$v.x`), variables (`$x := ...`, `$x = ...`, `$`), `if`/`else if`/`else`,
 * `with`/`else`, `range` over lists, maps (keys in sorted order, as Go) and integers with `break`/`continue` and
 * `else`, and the functions and, or, not, len, index, print, printf, println, eq, ne, lt, le, gt, ge, html, js,
 * urlquery, plus the functions a caller adds. Not supported (a parse error says so): define, template, block.
 *
 * One deliberate difference: Go prints `<no value>` for a missing map key; here printing one is an error naming
 * the key, so a typo never reaches a container. A missing key is still false in `if`/`with`.
 * Errors are TemplateErrors carrying the file, line and column.
 */

export class TemplateError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly reason: string,
    /** The error a function raised, kept so callers can tell its kind. */
    override readonly cause?: unknown,
  ) {
    super(`${file}:${line}:${col}: ${reason}`);
    this.name = "TemplateError";
  }
}

export type TemplateFunc = (...args: unknown[]) => unknown;

/** A map key or index that is not there; printing it is an error, testing it is false. */
class Missing {
  constructor(readonly what: string) {}
}

// --- lexing ---------------------------------------------------------------------------------------------------

type TokKind = "field" | "dot" | "var" | "ident" | "string" | "number" | "lparen" | "rparen" | "pipe" | "declare" | "assign" | "comma" | "end";

interface Tok {
  kind: TokKind;
  text: string;
  /** The decoded value of a string or number literal. */
  value?: string | number;
  line: number;
  col: number;
}

type Piece = { kind: "text"; text: string } | { kind: "action"; toks: Tok[]; line: number; col: number };

class Lexer {
  private pos = 0;
  /** Whether the action just lexed ended with a trim marker (` -}}`). */
  private lastTrim = false;
  /** Offsets where each line starts, for positions in errors. */
  private readonly lineStarts: number[] = [0];

  constructor(
    private readonly src: string,
    private readonly file: string,
  ) {
    for (let i = src.indexOf("\n"); i >= 0; i = src.indexOf("\n", i + 1)) this.lineStarts.push(i + 1);
  }

  private fail(msg: string, at = this.pos): never {
    const { line, col } = this.where(at);
    throw new TemplateError(this.file, line, col, msg);
  }

  private where(at: number): { line: number; col: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: at - this.lineStarts[lo]! + 1 };
  }

  pieces(): Piece[] {
    const out: Piece[] = [];
    const src = this.src;
    let trimNext = false;
    while (this.pos <= src.length) {
      const open = src.indexOf("{{", this.pos);
      let text = src.slice(this.pos, open < 0 ? src.length : open);
      if (trimNext) text = text.replace(/^[ \t\r\n]+/, "");
      trimNext = false;
      if (open < 0) {
        if (text) out.push({ kind: "text", text });
        break;
      }
      let p = open + 2;
      if (src[p] === "-" && /[ \t\r\n]/.test(src[p + 1] ?? "")) {
        text = text.replace(/[ \t\r\n]+$/, "");
        p += 2;
      }
      if (text) out.push({ kind: "text", text });
      const start = this.where(open);
      // A comment is the whole action: {{/* ... */}}, optionally with trim markers.
      const afterSpace = p + (src.slice(p).match(/^[ \t\r\n]*/)?.[0].length ?? 0);
      if (src.startsWith("/*", afterSpace)) {
        const close = src.indexOf("*/", afterSpace + 2);
        if (close < 0) this.fail("unclosed comment", open);
        const rest = src.slice(close + 2);
        const m = /^([ \t\r\n]+-)?\}\}/.exec(rest);
        if (!m) this.fail("comment ends before closing delimiter", close);
        trimNext = m[1] !== undefined;
        this.pos = close + 2 + m[0].length;
        continue;
      }
      this.pos = p;
      const toks = this.actionTokens();
      trimNext = this.lastTrim;
      out.push({ kind: "action", toks, line: start.line, col: start.col });
    }
    return out;
  }

  /** Tokens of one action, up to and including its closing delimiter (an "end" token). */
  private actionTokens(): Tok[] {
    const src = this.src;
    const toks: Tok[] = [];
    const push = (kind: TokKind, start: number, value?: string | number): void => {
      const { line, col } = this.where(start);
      toks.push({ kind, text: src.slice(start, this.pos), value, line, col });
    };
    for (;;) {
      const c = src[this.pos];
      if (c === undefined) this.fail("unclosed action");
      if (c === " " || c === "\t" || c === "\r" || c === "\n") {
        const m = /^[ \t\r\n]+-\}\}/.exec(src.slice(this.pos, this.pos + 64));
        if (m) {
          const start = this.pos;
          this.pos += m[0].length;
          this.lastTrim = true;
          push("end", start);
          return toks;
        }
        this.pos++;
        continue;
      }
      if (src.startsWith("}}", this.pos)) {
        const start = this.pos;
        this.pos += 2;
        this.lastTrim = false;
        push("end", start);
        return toks;
      }
      const start = this.pos;
      if (c === "." && !/[0-9]/.test(src[this.pos + 1] ?? "")) {
        this.pos++;
        const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(this.pos));
        if (m) {
          this.pos += m[0].length;
          push("field", start, m[0]);
        } else push("dot", start);
      } else if (c === "$") {
        this.pos++;
        const m = /^[A-Za-z0-9_]*/.exec(src.slice(this.pos))!;
        this.pos += m[0].length;
        push("var", start, "$" + m[0]);
      } else if (/[A-Za-z_]/.test(c)) {
        const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(this.pos))!;
        this.pos += m[0].length;
        push("ident", start, m[0]);
      } else if (c === '"') {
        push("string", start, this.quoted());
        toks[toks.length - 1]!.text = src.slice(start, this.pos);
      } else if (c === "`") {
        const close = src.indexOf("`", this.pos + 1);
        if (close < 0) this.fail("unterminated raw quoted string");
        this.pos = close + 1;
        push("string", start, src.slice(start + 1, close));
      } else if (c === "'") {
        const m = /^'(\\.|[^\\'])'/u.exec(src.slice(this.pos));
        if (!m) this.fail("malformed character constant");
        this.pos += m[0].length;
        const ch = m[1]!.startsWith("\\") ? JSON.parse(`"${m[1]}"`) : m[1]!;
        push("number", start, (ch as string).codePointAt(0)!);
      } else if (/[-+0-9.]/.test(c)) {
        const m = /^[-+]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d*([eE][-+]?\d+)?)/.exec(src.slice(this.pos));
        if (!m || m[0] === "" || m[0] === "-" || m[0] === "+") this.fail(`unexpected ${JSON.stringify(c)} in action`);
        this.pos += m[0].length;
        const text = m[0].replace(/_/g, "");
        const n = /^[-+]?0[oO]/.test(text) ? parseInt(text.replace(/0[oO]/, ""), 8) : /^[-+]?0[bB]/.test(text) ? parseInt(text.replace(/0[bB]/, ""), 2) : Number(text);
        if (Number.isNaN(n)) this.fail(`bad number syntax: ${JSON.stringify(m[0])}`);
        push("number", start, n);
      } else if (c === "(") {
        this.pos++;
        push("lparen", start);
      } else if (c === ")") {
        this.pos++;
        push("rparen", start);
      } else if (c === "|") {
        this.pos++;
        push("pipe", start);
      } else if (c === ",") {
        this.pos++;
        push("comma", start);
      } else if (src.startsWith(":=", this.pos)) {
        this.pos += 2;
        push("declare", start);
      } else if (c === "=") {
        this.pos++;
        push("assign", start);
      } else {
        this.fail(`unexpected ${JSON.stringify(c)} in action`);
      }
    }
  }

  /** A Go interpreted string literal at pos; returns its value. */
  private quoted(): string {
    const src = this.src;
    let i = this.pos + 1;
    let out = "";
    for (;;) {
      const c = src[i];
      if (c === undefined || c === "\n") this.fail("unterminated quoted string");
      if (c === '"') break;
      if (c === "\\") {
        const e = src[i + 1];
        const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\", a: "\x07", b: "\b", f: "\f", v: "\v", "'": "'" };
        if (e !== undefined && e in simple) {
          out += simple[e];
          i += 2;
          continue;
        }
        const hex = e === "x" ? 2 : e === "u" ? 4 : e === "U" ? 8 : 0;
        if (hex) {
          const digits = src.slice(i + 2, i + 2 + hex);
          if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits)) this.fail("bad escape in quoted string", i);
          out += String.fromCodePoint(parseInt(digits, 16));
          i += 2 + hex;
          continue;
        }
        this.fail(`unknown escape sequence \\${e ?? ""}`, i);
      }
      out += c;
      i++;
    }
    this.pos = i + 1;
    return out;
  }
}

// --- parsing --------------------------------------------------------------------------------------------------

interface Pos {
  line: number;
  col: number;
}

type Arg =
  | ({ kind: "field"; names: string[] } & Pos) // .a.b on dot
  | ({ kind: "dot" } & Pos)
  | ({ kind: "var"; name: string; names: string[] } & Pos)
  | ({ kind: "ident"; name: string } & Pos)
  | ({ kind: "literal"; value: string | number | boolean | null } & Pos)
  | ({ kind: "paren"; pipe: Pipeline; names: string[] } & Pos);

interface Command extends Pos {
  args: Arg[];
}

interface Pipeline extends Pos {
  decls: string[];
  assign: boolean;
  cmds: Command[];
}

type Node =
  | { kind: "text"; text: string }
  | ({ kind: "action"; pipe: Pipeline } & Pos)
  | ControlNode
  | ({ kind: "break" | "continue" } & Pos);

type ControlNode = { kind: "if" | "with" | "range"; pipe: Pipeline; list: Node[]; elseList: Node[] } & Pos;

const KEYWORDS = new Set(["if", "else", "end", "range", "with", "break", "continue", "define", "template", "block"]);

class Parser {
  /** The next piece to parse. */
  private p = 0;
  /** The current action's tokens, and the next one in them. */
  private toks: Tok[] = [];
  private i = 0;
  private rangeDepth = 0;

  constructor(
    private readonly pieces: Piece[],
    private readonly file: string,
    private readonly funcs: ReadonlySet<string>,
  ) {}

  private fail(at: Pos, msg: string): never {
    throw new TemplateError(this.file, at.line, at.col, msg);
  }

  parse(): Node[] {
    const { list, stop } = this.list();
    if (stop) this.fail(stop, `unexpected {{${stop.word}}}`);
    return list;
  }

  /** Nodes up to an {{else}} or {{end}} (returned as `stop`, with the tokens after it current). */
  private list(): { list: Node[]; stop?: Pos & { word: string } } {
    const list: Node[] = [];
    while (this.p < this.pieces.length) {
      const piece = this.pieces[this.p++]!;
      if (piece.kind === "text") {
        list.push(piece);
        continue;
      }
      this.toks = piece.toks;
      this.i = 0;
      const first = this.peek();
      if (first.kind === "end") this.fail(first, "missing value for command");
      if (first.kind === "ident" && KEYWORDS.has(first.text)) {
        this.i++;
        const word = first.text;
        if (word === "end" || word === "else") {
          if (word === "end") this.expectEnd();
          return { list, stop: { word, line: first.line, col: first.col } };
        }
        if (word === "if" || word === "with" || word === "range") {
          list.push(this.control(word, first));
          continue;
        }
        if (word === "break" || word === "continue") {
          if (this.rangeDepth === 0) this.fail(first, `{{${word}}} outside {{range}}`);
          this.expectEnd();
          list.push({ kind: word, line: first.line, col: first.col });
          continue;
        }
        this.fail(first, `{{${word}}} is not supported in these templates (define, template and block are not)`);
      }
      const pipe = this.pipeline(true, "end");
      list.push({ kind: "action", pipe, line: first.line, col: first.col });
    }
    return { list };
  }

  private control(word: "if" | "with" | "range", at: Tok): Node {
    const pipe = this.pipeline(true, "end", word === "range");
    if (word === "range") this.rangeDepth++;
    const body = this.list();
    if (word === "range") this.rangeDepth--;
    if (!body.stop) this.fail(at, `unexpected EOF: {{${word}}} has no {{end}}`);
    let elseList: Node[] = [];
    if (body.stop.word === "else") {
      const next = this.peek();
      if (next.kind === "ident" && (next.text === "if" || next.text === "with") && word !== "range") {
        // {{else if x}} / {{else with x}}: a nested control that shares the outer {{end}}.
        this.i++;
        elseList = [this.control(next.text as "if" | "with", next)];
      } else {
        this.expectEnd();
        const rest = this.list();
        if (!rest.stop || rest.stop.word !== "end") this.fail(at, `unexpected EOF: {{${word}}} has no {{end}}`);
        elseList = rest.list;
      }
    }
    return { kind: word, pipe, list: body.list, elseList, line: at.line, col: at.col };
  }

  private peek(): Tok {
    return this.toks[this.i]!;
  }

  private next(): Tok {
    return this.toks[this.i++]!;
  }

  private expectEnd(): void {
    const t = this.next();
    if (t.kind !== "end") this.fail(t, `unexpected ${JSON.stringify(t.text)} in action`);
  }

  /** A pipeline up to `until` (the action's end or a closing parenthesis), with optional declarations. */
  private pipeline(allowDecl: boolean, until: "end" | "rparen", isRange = false): Pipeline {
    const start = this.peek();
    const decls: string[] = [];
    let assign = false;
    if (allowDecl && start.kind === "var") {
      // $x := ..., $x = ..., and in range: $i, $v := ...
      const save = this.i;
      const names: string[] = [this.next().value as string];
      if (isRange && this.peek().kind === "comma") {
        this.i++;
        const second = this.next();
        if (second.kind !== "var") this.fail(second, "range can only initialize variables");
        names.push(second.value as string);
      }
      const op = this.peek();
      if (op.kind === "declare" || op.kind === "assign") {
        this.i++;
        decls.push(...names);
        assign = op.kind === "assign";
      } else this.i = save;
    }
    const cmds: Command[] = [];
    for (;;) {
      const cmd = this.command(until);
      cmds.push(cmd);
      const t = this.next();
      if (t.kind === "pipe") continue;
      if (t.kind === until) break;
      this.fail(t, until === "rparen" ? "unclosed left paren" : `unexpected ${JSON.stringify(t.text)} in operand`);
    }
    return { decls, assign, cmds, line: start.line, col: start.col };
  }

  private command(until: "end" | "rparen"): Command {
    const start = this.peek();
    const args: Arg[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === "pipe" || t.kind === until || (until === "rparen" && t.kind === "end")) break;
      if (t.kind === "rparen") this.fail(t, "unexpected right paren");
      args.push(this.operand());
    }
    if (args.length === 0) this.fail(start, "missing value for command");
    return { args, line: start.line, col: start.col };
  }

  private chain(): string[] {
    const names: string[] = [];
    while (this.peek().kind === "field") names.push(this.next().value as string);
    return names;
  }

  private operand(): Arg {
    const t = this.next();
    const at = { line: t.line, col: t.col };
    switch (t.kind) {
      case "field":
        return { kind: "field", names: [t.value as string, ...this.chain()], ...at };
      case "dot":
        return { kind: "dot", ...at };
      case "var":
        return { kind: "var", name: t.value as string, names: this.chain(), ...at };
      case "string":
      case "number":
        return { kind: "literal", value: t.value!, ...at };
      case "lparen": {
        const pipe = this.pipeline(true, "rparen");
        return { kind: "paren", pipe, names: this.chain(), ...at };
      }
      case "ident": {
        if (t.text === "true" || t.text === "false") return { kind: "literal", value: t.text === "true", ...at };
        if (t.text === "nil") return { kind: "literal", value: null, ...at };
        if (KEYWORDS.has(t.text)) this.fail(t, `unexpected {{${t.text}}} in operand`);
        if (!this.funcs.has(t.text)) this.fail(t, `function ${JSON.stringify(t.text)} not defined`);
        return { kind: "ident", name: t.text, ...at };
      }
      default:
        this.fail(t, `unexpected ${JSON.stringify(t.text)} in operand`);
    }
  }
}

// --- execution ------------------------------------------------------------------------------------------------

class BreakSignal {}
class ContinueSignal {}
const NO_FINAL = Symbol("no final value");

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Missing);
}

/** Go's notion of "true": not the zero value of its type. */
export function truth(v: unknown): boolean {
  if (v instanceof Missing || v === null || v === undefined) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return v !== "";
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

/** fmt's %v for the values templates see. */
function formatValue(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return `[${v.map(formatValue).join(" ")}]`;
  if (isMap(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${formatValue(v[k])}`).join(" ")}]`;
  return String(v);
}

function formatNumber(n: number): string {
  if (Number.isInteger(n) || !Number.isFinite(n)) return Number.isFinite(n) ? String(n) : n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN";
  const abs = Math.abs(n);
  if (abs >= 1e21 || abs < 1e-4) return n.toExponential().replace(/e([+-])(\d)$/, "e$10$2");
  return String(n);
}

const BUILTIN_NAMES = ["and", "or", "not", "len", "index", "print", "printf", "println", "eq", "ne", "lt", "le", "gt", "ge", "html", "js", "urlquery"];

class Executor {
  private vars: { name: string; value: unknown }[] = [];
  private out: string[] = [];

  constructor(
    private readonly file: string,
    private readonly funcs: Readonly<Record<string, TemplateFunc>>,
  ) {}

  private fail(at: Pos, msg: string, cause?: unknown): never {
    throw new TemplateError(this.file, at.line, at.col, msg, cause);
  }

  run(nodes: Node[], data: unknown): string {
    this.vars = [{ name: "$", value: data }];
    this.walk(nodes, data);
    return this.out.join("");
  }

  private walk(nodes: Node[], dot: unknown): void {
    for (const n of nodes) {
      switch (n.kind) {
        case "text":
          this.out.push(n.text);
          break;
        case "action": {
          const v = this.pipeline(n.pipe, dot);
          if (n.pipe.decls.length === 0) this.out.push(this.printable(v, n));
          break;
        }
        case "if":
        case "with": {
          const mark = this.vars.length;
          const v = this.pipeline(n.pipe, dot);
          if (truth(v)) this.walk(n.list, n.kind === "with" ? v : dot);
          else this.walk(n.elseList, dot);
          this.vars.length = mark;
          break;
        }
        case "range":
          this.range(n, dot);
          break;
        case "break":
          throw new BreakSignal();
        case "continue":
          throw new ContinueSignal();
      }
    }
  }

  private printable(v: unknown, at: Pos): string {
    if (v instanceof Missing) this.fail(at, `${v.what} has no value`);
    return formatValue(v);
  }

  private range(n: ControlNode, dot: unknown): void {
    const mark = this.vars.length;
    const decls = n.pipe.decls;
    const v = this.pipeline({ ...n.pipe, decls: [] }, dot);
    let items: [unknown, unknown][];
    if (Array.isArray(v)) items = v.map((x, i) => [i, x]);
    else if (isMap(v)) items = Object.keys(v).sort().map((k) => [k, v[k]]);
    else if (typeof v === "number" && Number.isInteger(v)) items = Array.from({ length: Math.max(0, v) }, (_, i) => [i, i]);
    else if (v === null || v === undefined || v instanceof Missing) items = [];
    else this.fail(n, `range can't iterate over ${formatValue(v)}`);
    if (items.length === 0) {
      this.walk(n.elseList, dot);
      this.vars.length = mark;
      return;
    }
    for (const [key, elem] of items) {
      this.vars.length = mark;
      if (decls.length === 1) this.vars.push({ name: decls[0]!, value: elem });
      if (decls.length === 2) this.vars.push({ name: decls[0]!, value: key }, { name: decls[1]!, value: elem });
      try {
        this.walk(n.list, elem);
      } catch (e) {
        if (e instanceof BreakSignal) break;
        if (e instanceof ContinueSignal) continue;
        throw e;
      }
    }
    this.vars.length = mark;
  }

  private lookupVar(name: string, at: Pos): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    this.fail(at, `undefined variable: ${name}`);
  }

  private pipeline(pipe: Pipeline, dot: unknown): unknown {
    let value: unknown = NO_FINAL;
    for (const cmd of pipe.cmds) value = this.command(cmd, dot, value);
    if (pipe.decls.length > 0) {
      const name = pipe.decls[0]!;
      if (pipe.assign) {
        let found = false;
        for (let i = this.vars.length - 1; i >= 0; i--) {
          if (this.vars[i]!.name === name) {
            this.vars[i]!.value = value;
            found = true;
            break;
          }
        }
        if (!found) this.fail(pipe, `undefined variable: ${name}`);
      } else this.vars.push({ name, value });
    }
    return value;
  }

  private command(cmd: Command, dot: unknown, final: unknown): unknown {
    const first = cmd.args[0]!;
    if (first.kind === "ident") return this.call(first, cmd.args.slice(1), dot, final);
    if (cmd.args.length > 1 || final !== NO_FINAL) {
      this.fail(cmd.args[1] ?? first, `can't give argument to non-function ${describe(first)}`);
    }
    return this.arg(first, dot);
  }

  private arg(a: Arg, dot: unknown): unknown {
    switch (a.kind) {
      case "literal":
        return a.value;
      case "dot":
        return dot;
      case "field":
        return this.fields(dot, a.names, ".", a);
      case "var":
        return this.fields(this.lookupVar(a.name, a), a.names, a.name, a);
      case "paren":
        return this.fields(this.pipeline(a.pipe, dot), a.names, "(...)", a);
      case "ident":
        return this.call(a, [], dot, NO_FINAL);
    }
  }

  private fields(base: unknown, names: readonly string[], baseText: string, at: Pos): unknown {
    let v = base;
    let path = baseText === "." ? "" : baseText;
    for (const name of names) {
      if (v instanceof Missing) this.fail(at, `${v.what} has no value, so it has no field ${name}`);
      if (!isMap(v)) this.fail(at, `can't evaluate field ${name} in ${v === null || v === undefined ? "a nil value" : `type ${goType(v)}`}`);
      path += `.${name}`;
      v = Object.prototype.hasOwnProperty.call(v, name) ? v[name] : new Missing(path);
    }
    return v;
  }

  private call(fn: Extract<Arg, { kind: "ident" }>, argNodes: readonly Arg[], dot: unknown, final: unknown): unknown {
    const withFinal = (vals: unknown[]): unknown[] => (final === NO_FINAL ? vals : [...vals, final]);
    // and/or evaluate their arguments only as far as needed, as Go does.
    if (fn.name === "and" || fn.name === "or") {
      const thunks: (() => unknown)[] = argNodes.map((a) => () => this.arg(a, dot));
      if (final !== NO_FINAL) thunks.push(() => final);
      if (thunks.length === 0) this.fail(fn, `wrong number of args for ${fn.name}: want at least 1 got 0`);
      let v: unknown;
      for (const t of thunks) {
        v = t();
        if (fn.name === "and" ? !truth(v) : truth(v)) return v;
      }
      return v;
    }
    const args = withFinal(argNodes.map((a) => this.arg(a, dot)));
    try {
      const custom = this.funcs[fn.name];
      if (custom) return custom(...args.map((a) => (a instanceof Missing ? undefined : a)));
      return builtin(fn.name, args);
    } catch (err) {
      if (err instanceof TemplateError) throw err;
      this.fail(fn, `error calling ${fn.name}: ${err instanceof Error ? err.message : String(err)}`, err);
    }
  }
}

function describe(a: Arg): string {
  switch (a.kind) {
    case "field":
      return "." + a.names.join(".");
    case "var":
      return a.name + a.names.map((n) => "." + n).join("");
    case "literal":
      return formatValue(a.value);
    default:
      return a.kind;
  }
}

function goType(v: unknown): string {
  if (typeof v === "string") return "string";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float64";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "[]interface {}";
  return typeof v;
}

function argCount(name: string, args: readonly unknown[], n: number): void {
  if (args.length !== n) throw new Error(`wrong number of args for ${name}: want ${n} got ${args.length}`);
}

function basicKind(v: unknown): string {
  if (v instanceof Missing || v === null || v === undefined) return "nil";
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return typeof v;
  throw new Error(`invalid type for comparison: ${goType(v)}`);
}

function compareEq(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === "nil" || kb === "nil") return ka === kb;
  if (ka !== kb) throw new Error(`incompatible types for comparison: ${goType(a)} and ${goType(b)}`);
  return a === b;
}

function compareLess(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka !== kb) throw new Error(`incompatible types for comparison: ${goType(a)} and ${goType(b)}`);
  if (ka === "boolean" || ka === "nil") throw new Error(`invalid type for comparison: ${ka === "nil" ? "nil" : "bool"}`);
  return (a as string | number) < (b as string | number);
}

function builtin(name: string, args: unknown[]): unknown {
  switch (name) {
    case "not":
      argCount(name, args, 1);
      return !truth(args[0]);
    case "len": {
      argCount(name, args, 1);
      const v = args[0];
      if (typeof v === "string") return Buffer.byteLength(v);
      if (Array.isArray(v)) return v.length;
      if (isMap(v)) return Object.keys(v).length;
      throw new Error(`len of ${v instanceof Missing ? "nil" : `type ${goType(v)}`}`);
    }
    case "index": {
      if (args.length === 0) throw new Error("wrong number of args for index: want at least 1 got 0");
      let v = args[0];
      for (const key of args.slice(1)) {
        if (Array.isArray(v)) {
          if (typeof key !== "number" || !Number.isInteger(key)) throw new Error(`cannot index slice/array with type ${goType(key)}`);
          if (key < 0 || key >= v.length) throw new Error(`error calling index: index out of range: ${key}`);
          v = v[key];
        } else if (isMap(v)) {
          const k = String(key);
          v = Object.prototype.hasOwnProperty.call(v, k) ? v[k] : new Missing(`index of key ${JSON.stringify(k)}`);
        } else if (typeof v === "string") {
          if (typeof key !== "number" || !Number.isInteger(key)) throw new Error(`cannot index string with type ${goType(key)}`);
          const bytes = Buffer.from(v);
          if (key < 0 || key >= bytes.length) throw new Error(`index out of range: ${key}`);
          v = bytes[key]!;
        } else throw new Error(`can't index item of type ${v instanceof Missing || v == null ? "nil" : goType(v)}`);
      }
      return v;
    }
    case "print":
      return sprint(args);
    case "println":
      return args.map(formatValue).join(" ") + "\n";
    case "printf":
      if (typeof args[0] !== "string") throw new Error("printf needs a format string first");
      return sprintf(args[0], args.slice(1));
    case "eq":
      if (args.length < 2) throw new Error("missing argument for comparison");
      return args.slice(1).some((b) => compareEq(args[0], b));
    case "ne":
      argCount(name, args, 2);
      return !compareEq(args[0], args[1]);
    case "lt":
      argCount(name, args, 2);
      return compareLess(args[0], args[1]);
    case "le":
      argCount(name, args, 2);
      return compareLess(args[0], args[1]) || compareEq(args[0], args[1]);
    case "gt":
      argCount(name, args, 2);
      return !(compareLess(args[0], args[1]) || compareEq(args[0], args[1]));
    case "ge":
      argCount(name, args, 2);
      return !compareLess(args[0], args[1]);
    case "html":
      return sprint(args).replace(/[&'<>"\0]/g, (c) => ({ "&": "&amp;", "'": "&#39;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "\0": "\uFFFD" })[c]!);
    case "js":
      return sprint(args).replace(/[\\'"<>&=\n\r\t]/g, (c) =>
        c === "\\" ? "\\\\" : c === "'" ? "\\'" : c === '"' ? "\\\"" : c === "\n" ? "\\n" : c === "\r" ? "\\r" : c === "\t" ? "\\t" : `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`,
      );
    case "urlquery":
      return encodeURIComponent(sprint(args)).replace(/%20/g, "+").replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  }
  throw new Error(`function ${JSON.stringify(name)} not defined`);
}

/** fmt.Sprint: a space between operands when neither side is a string. */
function sprint(args: readonly unknown[]): string {
  let out = "";
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== "string" && typeof args[i - 1] !== "string") out += " ";
    out += formatValue(a instanceof Missing ? undefined : a);
  });
  return out;
}

/** fmt.Sprintf for the verbs templates use: %s %v %d %q %f %e %g %x %X %t %c %%, with flags, width, precision. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let argi = 0;
  return format.replace(/%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])/g, (_m, flags: string, widthS?: string, precS?: string, verb?: string) => {
    if (verb === "%") return "%";
    const width = widthS === "*" ? Number(args[argi++]) : widthS ? Number(widthS) : undefined;
    const prec = precS === "*" ? Number(args[argi++]) : precS !== undefined ? Number(precS || "0") : undefined;
    if (argi >= args.length) return `%!${verb}(MISSING)`;
    const a = args[argi++];
    let s: string;
    switch (verb) {
      case "s":
      case "v":
        s = formatValue(a);
        if (prec !== undefined && verb === "s") s = s.slice(0, prec);
        break;
      case "q":
        s = typeof a === "string" ? JSON.stringify(a) : formatValue(a);
        break;
      case "d":
        s = typeof a === "number" ? Math.trunc(a).toString() : `%!d(${goType(a)}=${formatValue(a)})`;
        if (flags.includes("+") && typeof a === "number" && a >= 0) s = "+" + s;
        break;
      case "f":
      case "F":
      case "e":
      case "g":
        if (typeof a !== "number") s = `%!${verb}(${goType(a)}=${formatValue(a)})`;
        else if (verb === "e") s = a.toExponential(prec ?? 6).replace(/e([+-])(\d)$/, "e$10$2");
        else if (verb === "g") s = prec !== undefined ? String(Number(a.toPrecision(prec))) : formatNumber(a);
        else s = a.toFixed(prec ?? 6);
        break;
      case "x":
      case "X":
        s = typeof a === "number" ? Math.trunc(a).toString(16) : Buffer.from(formatValue(a)).toString("hex");
        if (verb === "X") s = s.toUpperCase();
        break;
      case "t":
        s = typeof a === "boolean" ? String(a) : `%!t(${goType(a)}=${formatValue(a)})`;
        break;
      case "c":
        s = typeof a === "number" ? String.fromCodePoint(a) : `%!c(${goType(a)}=${formatValue(a)})`;
        break;
      default:
        s = `%!${verb}(${goType(a)}=${formatValue(a)})`;
    }
    if (width !== undefined && s.length < width) {
      const pad = flags.includes("0") && !flags.includes("-") && "dfFeExXg".includes(verb!) ? "0" : " ";
      if (flags.includes("-")) s = s.padEnd(width, " ");
      else if (pad === "0" && /^[-+]/.test(s)) s = s[0] + s.slice(1).padStart(width - 1, "0");
      else s = s.padStart(width, pad);
    }
    return s;
  }) + (argi < args.length ? `%!(EXTRA ${args.slice(argi).map((a) => `${goType(a)}=${formatValue(a)}`).join(", ")})` : "");
}

/** A parsed template, ready to execute many times. */
export class GoTemplate {
  private constructor(
    private readonly nodes: Node[],
    private readonly file: string,
    private readonly funcs: Readonly<Record<string, TemplateFunc>>,
  ) {}

  /** Parses `text`; `funcs` are the functions beyond Go's builtins (their names are checked at parse time). */
  static parse(text: string, file: string, funcs: Readonly<Record<string, TemplateFunc>> = {}): GoTemplate {
    const pieces = new Lexer(text, file).pieces();
    const names = new Set([...BUILTIN_NAMES, ...Object.keys(funcs)]);
    return new GoTemplate(new Parser(pieces, file, names).parse(), file, funcs);
  }

  execute(data: unknown): string {
    return new Executor(this.file, this.funcs).run(this.nodes, data);
  }
}

/** Parse and execute in one step. */
export function renderGoTemplate(text: string, data: unknown, file: string, funcs: Readonly<Record<string, TemplateFunc>> = {}): string {
  return GoTemplate.parse(text, file, funcs).execute(data);
}
