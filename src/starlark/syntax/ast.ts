/**
 * Syntax phase: the typed abstract syntax tree of a Starlark file.
 *
 * Produced by `parser.ts`, annotated in place by `resolve/resolver.ts`, consumed by the evaluator. The shapes follow
 * starlark-go's syntax.go, with two TypeScript-friendly changes: parameters and call arguments get their own node
 * kinds (`Param`, `Arg`) instead of being encoded as `Ident`/`BinaryExpr(=)`/`UnaryExpr(*)`, and every node has a
 * string `kind` discriminant so evaluators can `switch (node.kind)`.
 *
 * Positions: every node has `start` (its first character) and `end` (just past its last character, exclusive, like
 * starlark-go's Span). Lines and columns are 1-based; columns count Unicode code points (a tab counts as one column).
 * The file name is on the `File` node only. `Pos` objects are shared between nodes and tokens: never mutate them.
 *
 * Literal values (see `Literal`):
 *  - int:    a JS `number` when it is a safe integer (|v| <= 2^53-1), else a `bigint` (never a bigint that fits).
 *  - float:  a JS `number`.
 *  - string: a JS string. Starlark strings are UTF-8 byte sequences; valid UTF-8 decodes to ordinary UTF-16, and each
 *            byte that is not part of valid UTF-8 (e.g. from `"\xff"` or `"\377"`) is kept as the lone surrogate
 *            U+DC00+byte (U+DC80..U+DCFF), the same "surrogate escape" convention as `values/strings.ts`.
 *  - bytes:  a "binary" JS string with one char (0..255) per byte, like `values.Bytes.s`.
 *
 * Resolver annotations (filled in by `resolve()`, `null` before): `Ident.binding`, `DefStmt.fn`, `LambdaExpr.fn`,
 * `File.module`. See `Binding`, `FunctionScope`, `ModuleScope` below for how to compile names to slots.
 */

/** A 1-based source position within the file named by `File.filename`. */
export interface Pos {
  readonly line: number;
  readonly col: number;
}

interface NodeBase {
  start: Pos;
  /** Exclusive end: the position just after the node's last character. */
  end: Pos;
}

// ---------------------------------------------------------------------------------------------------------------
// Resolver annotations (starlark-go's resolve.Binding / resolve.Function / resolve.Module)

/**
 * Where a name lives at run time.
 *  - "local":       a slot of the enclosing function's (or, at top level, the module's) `locals`; `index` is the slot.
 *  - "cell":        like "local" (same `index` into `locals`), but the variable is captured by a nested function, so
 *                   the slot must hold a shared cell; reads/writes go through the cell.
 *  - "free":        a variable of an enclosing function captured by this one; `index` is into this function's
 *                   `freeVars` (the closure's captured cells).
 *  - "global":      a module-level variable; `index` is into `ModuleScope.globals`.
 *  - "predeclared": a name the host supplied (`isPredeclared`); look it up by name. `index` is -1.
 *  - "universal":   a builtin of the universe (`isUniversal`); look it up by name. `index` is -1.
 *  - "undefined":   resolution failed (an error was reported); never seen by the evaluator.
 */
export type Scope = "undefined" | "local" | "cell" | "free" | "global" | "predeclared" | "universal";

/**
 * One variable. A `Binding` object is shared by every `Ident` that refers to the same variable within one function,
 * so the resolver can turn a "local" into a "cell" after the fact (when a nested function captures it).
 */
export interface Binding {
  scope: Scope;
  index: number;
  /** The identifier that first bound the name (its definition site); null for predeclared/universal names. */
  first: Ident | null;
}

/**
 * What the evaluator needs to compile a `def` or `lambda` (starlark-go's resolve.Function).
 *
 * Slots: `locals[i]` is the binding of local slot i. Parameters come first, in order: the ordinary (positional or
 * keyword) parameters, then keyword-only ones, then `*args` (if `hasVarargs`), then `**kwargs` (if `hasKwargs`); a
 * bare `*` takes no slot. Then come the other locals, including the variables of every comprehension nested in the
 * function body (comprehensions do not get their own frame, as in starlark-go).
 *
 * Closures: `freeVars[i]` is the binding, *in the enclosing function* (or the module's top-level locals), that the
 * i-th free variable captures: its scope there is "cell" (take the cell in enclosing `locals[index]`) or "free"
 * (take the enclosing function's `freeVars[index]`). Inside this function, uses of it have scope "free", index i.
 */
export interface FunctionScope {
  /** The def name, or "lambda". */
  name: string;
  pos: Pos;
  params: Param[];
  /** For a lambda: one synthetic `ReturnStmt` holding the body expression. */
  body: Stmt[];
  hasVarargs: boolean;
  hasKwargs: boolean;
  numKwonlyParams: number;
  locals: Binding[];
  freeVars: Binding[];
  /** Indexes into `locals` of the bindings whose scope is "cell" (convenience; derived from `locals`). */
  cells: number[];
}

/**
 * The module-level result of resolution (starlark-go's resolve.Module). The top-level code runs as a function whose
 * locals are `locals`: the names bound by `load` (unless `loadBindsGlobally`) and the variables of top-level
 * comprehensions. Top-level functions capture loaded names as free variables, like any closure.
 */
export interface ModuleScope {
  locals: Binding[];
  /** Global variables in order of first binding; `globals[i].first.name` is the name of slot i. */
  globals: Binding[];
  /** Indexes into `locals` that are captured by some function (scope "cell"). */
  cells: number[];
}

// ---------------------------------------------------------------------------------------------------------------
// File

export interface File extends NodeBase {
  kind: "File";
  filename: string;
  stmts: Stmt[];
  /** Set by the resolver. */
  module: ModuleScope | null;
}

// ---------------------------------------------------------------------------------------------------------------
// Statements

export type Stmt =
  | AssignStmt
  | DefStmt
  | ExprStmt
  | ForStmt
  | WhileStmt
  | IfStmt
  | LoadStmt
  | ReturnStmt
  | BranchStmt;

/** The operator of an assignment: "=" or an augmented operator ("+=", "-=", "*=", "/=", "//=", "%=", "&=", "|=",
 *  "^=", "<<=", ">>="). `binaryOpOf` maps an augmented operator to its binary operator. */
export type AssignOp = "=" | "+=" | "-=" | "*=" | "/=" | "//=" | "%=" | "&=" | "|=" | "^=" | "<<=" | ">>=";

/** `lhs op rhs`. For "=" the LHS may be an Ident, IndexExpr, DotExpr, or (nested, possibly parenthesized)
 *  TupleExpr/ListExpr of those; for augmented assignment an Ident, IndexExpr or DotExpr (checked by the resolver). */
export interface AssignStmt extends NodeBase {
  kind: "AssignStmt";
  op: AssignOp;
  opPos: Pos;
  lhs: Expr;
  rhs: Expr;
}

/** `def name(params): body`. */
export interface DefStmt extends NodeBase {
  kind: "DefStmt";
  name: Ident;
  params: Param[];
  body: Stmt[];
  /** Set by the resolver. */
  fn: FunctionScope | null;
}

/** An expression evaluated for its effect (calls, docstrings). */
export interface ExprStmt extends NodeBase {
  kind: "ExprStmt";
  x: Expr;
}

/** `for vars in x: body`. `vars` is an assignable expression (Ident, TupleExpr, ...). */
export interface ForStmt extends NodeBase {
  kind: "ForStmt";
  vars: Expr;
  x: Expr;
  body: Stmt[];
}

/** `while cond: body` (dialect option `while`). */
export interface WhileStmt extends NodeBase {
  kind: "WhileStmt";
  cond: Expr;
  body: Stmt[];
}

/** `if cond: then else: else_`. An `elif` chain is a nested IfStmt as the single statement of `else_`, with
 *  `elif` true on the nested statement. `else_` is empty when there is no else part. */
export interface IfStmt extends NodeBase {
  kind: "IfStmt";
  cond: Expr;
  then: Stmt[];
  else_: Stmt[];
  elif: boolean;
}

/**
 * `load(module, "name", local="orig", ...)`. `from[i]` is the exported name in the loaded module and `to[i]` the
 * identifier bound in this file (the same name for the `"name"` form). Both are Idents positioned at the name inside
 * the quotes (for `from`) or at the identifier (for `to`). `to[i].binding` is filled in by the resolver.
 */
export interface LoadStmt extends NodeBase {
  kind: "LoadStmt";
  module: Literal & { value: string };
  from: Ident[];
  to: Ident[];
}

/** `return` or `return x`. */
export interface ReturnStmt extends NodeBase {
  kind: "ReturnStmt";
  result: Expr | null;
}

/** `break`, `continue` or `pass`. */
export interface BranchStmt extends NodeBase {
  kind: "BranchStmt";
  token: "break" | "continue" | "pass";
}

// ---------------------------------------------------------------------------------------------------------------
// Expressions

export type Expr =
  | Ident
  | Literal
  | ParenExpr
  | TupleExpr
  | ListExpr
  | DictExpr
  | Comprehension
  | UnaryExpr
  | BinaryExpr
  | CondExpr
  | DotExpr
  | IndexExpr
  | SliceExpr
  | CallExpr
  | LambdaExpr;

/** A name. `binding` is set by the resolver for every use and every binding occurrence. */
export interface Ident extends NodeBase {
  kind: "Ident";
  name: string;
  binding: Binding | null;
}

export type LiteralKind = "int" | "float" | "string" | "bytes";

/** A literal token; see the module comment for the value representation of each kind. */
export interface Literal extends NodeBase {
  kind: "Literal";
  type: LiteralKind;
  value: number | bigint | string;
  /** The source text of the token (quotes and prefixes included). */
  raw: string;
}

/** `(x)`: kept so that the resolver can tell `(a, b) = ...` shapes and positions stay exact; evaluate as `x`. */
export interface ParenExpr extends NodeBase {
  kind: "ParenExpr";
  x: Expr;
}

/** `a, b` or `(a, b)` (the parenthesized form is a ParenExpr around a TupleExpr) or `()` (no ParenExpr). */
export interface TupleExpr extends NodeBase {
  kind: "TupleExpr";
  elts: Expr[];
}

/** `[a, b]`. */
export interface ListExpr extends NodeBase {
  kind: "ListExpr";
  elts: Expr[];
}

/** `{k: v, ...}`. */
export interface DictExpr extends NodeBase {
  kind: "DictExpr";
  entries: DictEntry[];
}

/** `k: v`, inside a DictExpr or as the body of a dict comprehension. */
export interface DictEntry extends NodeBase {
  kind: "DictEntry";
  key: Expr;
  value: Expr;
}

/**
 * `[body for ... if ...]` (curly=false) or `{k: v for ...}` (curly=true, body is a DictEntry). The first clause is
 * always a ForClause; its `x` is resolved in the enclosing scope, everything else in the comprehension's own block.
 * The comprehension's variables are locals of the enclosing function (or module-level locals at top level).
 */
export interface Comprehension extends NodeBase {
  kind: "Comprehension";
  curly: boolean;
  body: Expr | DictEntry;
  clauses: (ForClause | IfClause)[];
}

export interface ForClause extends NodeBase {
  kind: "ForClause";
  vars: Expr;
  x: Expr;
}

export interface IfClause extends NodeBase {
  kind: "IfClause";
  cond: Expr;
}

export type UnaryOp = "+" | "-" | "~" | "not";

export interface UnaryExpr extends NodeBase {
  kind: "UnaryExpr";
  op: UnaryOp;
  x: Expr;
}

export type BinaryOp =
  | "or"
  | "and"
  | "=="
  | "!="
  | "<"
  | ">"
  | "<="
  | ">="
  | "in"
  | "not in"
  | "|"
  | "^"
  | "&"
  | "<<"
  | ">>"
  | "+"
  | "-"
  | "*"
  | "/"
  | "//"
  | "%";

export interface BinaryExpr extends NodeBase {
  kind: "BinaryExpr";
  op: BinaryOp;
  opPos: Pos;
  x: Expr;
  y: Expr;
}

/** `t if cond else f`. */
export interface CondExpr extends NodeBase {
  kind: "CondExpr";
  cond: Expr;
  then: Expr;
  else_: Expr;
}

/** `x.name`. `name.binding` stays null (attribute names are not variables). */
export interface DotExpr extends NodeBase {
  kind: "DotExpr";
  x: Expr;
  name: Ident;
  dotPos: Pos;
}

/** `x[y]`. `lbrack` is the position of `[` (where index errors are reported). */
export interface IndexExpr extends NodeBase {
  kind: "IndexExpr";
  x: Expr;
  y: Expr;
  lbrack: Pos;
}

/** `x[lo:hi:step]`, each part optional. */
export interface SliceExpr extends NodeBase {
  kind: "SliceExpr";
  x: Expr;
  lo: Expr | null;
  hi: Expr | null;
  step: Expr | null;
  lbrack: Pos;
}

/** `fn(args)`. `lparen` is where call errors are reported. */
export interface CallExpr extends NodeBase {
  kind: "CallExpr";
  fn: Expr;
  args: Arg[];
  lparen: Pos;
}

/** `lambda params: body`. */
export interface LambdaExpr extends NodeBase {
  kind: "LambdaExpr";
  params: Param[];
  body: Expr;
  /** Set by the resolver. */
  fn: FunctionScope | null;
}

// ---------------------------------------------------------------------------------------------------------------
// Parameters and arguments

/**
 * One parameter of a def or lambda:
 *  - "required": `name`
 *  - "optional": `name=default` (`default` set; evaluated in the enclosing scope when the def executes)
 *  - "star":     `*name`, or a bare `*` (name null) that only marks the following parameters keyword-only
 *  - "starstar": `**name`
 */
export interface Param extends NodeBase {
  kind: "Param";
  type: "required" | "optional" | "star" | "starstar";
  name: Ident | null;
  default: Expr | null;
  /** The `=` of an optional parameter (where starlark-go reports its errors). */
  eq?: Pos;
}

/**
 * One call argument:
 *  - "positional": `value`
 *  - "named":      `name=value` (`name` set, its binding stays null)
 *  - "star":       `*value`
 *  - "starstar":   `**value`
 */
export interface Arg extends NodeBase {
  kind: "Arg";
  type: "positional" | "named" | "star" | "starstar";
  name: Ident | null;
  value: Expr;
}

/** Every node type, for generic walkers. */
export type Node = File | Stmt | Expr | DictEntry | ForClause | IfClause | Param | Arg;

/** The binary operator applied by an augmented assignment ("+=" -> "+"). */
export function binaryOpOf(op: Exclude<AssignOp, "=">): BinaryOp {
  return op.slice(0, -1) as BinaryOp;
}
