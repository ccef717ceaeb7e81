/**
 * Resolve phase: static name binding, a port of starlark-go's resolve package.
 *
 * Walks a parsed File and binds every identifier to a local, cell, free, global, predeclared or universal variable
 * (see `Binding` in syntax/ast.ts), records per function its locals and free variables and per module its globals,
 * and reports the static errors of the spec with starlark-go's wording. All errors are collected, not just the first.
 *
 * Structure (as in starlark-go): the environment is a tree of blocks (file, function, comprehension). Binding
 * occurrences are recorded as they are met; uses are recorded in their "container" block (the innermost function,
 * or the file) and resolved at the end of that container against its locals. Whatever is left is resolved once the
 * whole module has been seen, walking outwards, which is when free variables and cells are discovered and when
 * function bodies may refer to globals defined further down the file.
 */
import type * as A from "../syntax/ast.ts";
import type { Diagnostic } from "../syntax/errors.ts";
import type { DialectOptions } from "../options.ts";
import { nearest } from "../spell.ts";

/** What exists besides the module's own names; the evaluator decides. */
export interface NameSets {
  isPredeclared: (name: string) => boolean;
  isUniversal: (name: string) => boolean;
  /** Names a misspelt one may be meant as besides the file's own (the universe, the host's); asked only on error. */
  suggestions?: () => Iterable<string>;
  /** The load statement that binds a name a module provides (json → `load("json.star", "json")`), if any. */
  loadFor?: (name: string) => string | undefined;
}

const DOESNT = "this Starlark dialect does not ";

interface Use {
  id: A.Ident;
  env: Block;
}

class Block {
  readonly bindings = new Map<string, A.Binding>();
  readonly children: Block[] = [];
  uses: Use[] = [];
  constructor(
    readonly parent: Block | null,
    /** Set for a function block; null for the file and comprehension blocks. */
    readonly fn: A.FunctionScope | null,
  ) {
    parent?.children.push(this);
  }
}

class Resolver {
  readonly errors: Diagnostic[] = [];
  private readonly file: Block = new Block(null, null);
  private env: Block = this.file;
  private readonly globals = new Map<string, A.Binding>();
  private readonly predeclared = new Map<string, A.Binding>();
  readonly moduleGlobals: A.Binding[] = [];
  readonly moduleLocals: A.Binding[] = [];
  private loops = 0;
  private ifstmts = 0;

  constructor(
    private readonly filename: string,
    private readonly opts: DialectOptions,
    private readonly names: NameSets,
  ) {}

  private errorf(pos: A.Pos, message: string): void {
    this.errors.push({ pos: { file: this.filename, line: pos.line, col: pos.col }, message });
  }

  private fmtPos(p: A.Pos): string {
    return `${this.filename}:${p.line}:${p.col}`;
  }

  private push(b: Block): void {
    this.env = b;
  }
  private pop(): void {
    this.env = this.env.parent!;
  }

  /** The innermost enclosing function block, or the file block. */
  private container(): Block {
    for (let b: Block = this.env; ; b = b.parent!) {
      if (b.fn !== null || b === this.file) return b;
    }
  }

  private topLevelControl(): boolean {
    return !!(this.opts.topLevelControl || this.opts.globalReassign);
  }

  resolveFile(file: A.File): A.ModuleScope {
    this.stmts(file.stmts);
    this.resolveLocalUses(this.file);
    // Function bodies may refer to globals bound later in the file: resolve non-local uses only now.
    this.resolveNonLocalUses(this.file);
    return { locals: this.moduleLocals, globals: this.moduleGlobals, cells: cellsOf(this.moduleLocals) };
  }

  // ---------------------------------------------------------------------------------------------------------
  // Binding

  /** Binds a name in the current block; returns whether it was already bound there. */
  private bind(id: A.Ident): boolean {
    if (this.env === this.file) {
      let bind = this.file.bindings.get(id.name);
      let ok = bind !== undefined;
      if (!bind) {
        bind = this.globals.get(id.name);
        ok = bind !== undefined;
        if (!bind) {
          bind = { scope: "global", index: this.moduleGlobals.length, first: id };
          this.globals.set(id.name, bind);
          this.moduleGlobals.push(bind);
        }
      }
      if (ok && !this.opts.globalReassign) {
        this.errorf(id.start, `cannot reassign ${bind.scope} ${id.name} declared at ${this.fmtPos(bind.first!.start)}`);
      }
      id.binding = bind;
      return ok;
    }
    return this.bindLocal(id);
  }

  private bindLocal(id: A.Ident): boolean {
    const ok = this.env.bindings.has(id.name);
    if (!ok) {
      const fn = this.container().fn;
      const locals = fn ? fn.locals : this.moduleLocals;
      const bind: A.Binding = { scope: "local", index: locals.length, first: id };
      this.env.bindings.set(id.name, bind);
      locals.push(bind);
    }
    this.use(id);
    return ok;
  }

  private use(id: A.Ident): void {
    const use: Use = { id, env: this.env };
    // With globalreassign, top-level uses are resolved at once (a use before a rebinding sees the old binding).
    if (this.opts.globalReassign && this.env === this.file) {
      this.useToplevel(use);
      return;
    }
    this.container().uses.push(use);
  }

  /** Resolves the container's uses that are its own locals; keeps the rest for resolveNonLocalUses. */
  private resolveLocalUses(b: Block): void {
    const unresolved: Use[] = [];
    for (const use of b.uses) {
      const bind = lookupLocal(use);
      if (bind && (bind.scope === "local" || bind.scope === "cell")) use.id.binding = bind;
      else unresolved.push(use);
    }
    b.uses = unresolved;
  }

  private resolveNonLocalUses(b: Block): void {
    for (const child of b.children) this.resolveNonLocalUses(child);
    for (const use of b.uses) use.id.binding = this.lookupLexical(use, use.env);
  }

  private lookupLexical(use: Use, env: Block): A.Binding {
    if (env === this.file) return this.useToplevel(use);
    let bind = env.bindings.get(use.id.name);
    if (!bind) {
      bind = this.lookupLexical(use, env.parent!);
      if (env.fn && (bind.scope === "local" || bind.scope === "free" || bind.scope === "cell")) {
        // Found in an enclosing function: capture it. The enclosing local becomes a cell, and this function
        // gets a free variable referring to it.
        if (bind.scope === "local") bind.scope = "cell";
        const index = env.fn.freeVars.length;
        env.fn.freeVars.push(bind);
        bind = { scope: "free", index, first: bind.first };
      }
      // Memoize: no duplicate free variables, no repeated failing lookups.
      env.bindings.set(use.id.name, bind);
    }
    return bind;
  }

  private useToplevel(use: Use): A.Binding {
    const id = use.id;
    let bind = this.file.bindings.get(id.name) ?? this.globals.get(id.name) ?? this.predeclared.get(id.name);
    if (!bind) {
      if (this.names.isPredeclared(id.name)) {
        bind = { scope: "predeclared", index: -1, first: null };
        this.predeclared.set(id.name, bind);
      } else if (this.names.isUniversal(id.name)) {
        if (!this.opts.set && id.name === "set") this.errorf(id.start, DOESNT + "support sets");
        bind = { scope: "universal", index: -1, first: null };
        this.predeclared.set(id.name, bind);
      } else if (id.name === "set" && !this.opts.set) {
        // Whether or not the host lists `set` when the option is off, the program sees starlark-go's message.
        this.errorf(id.start, DOESNT + "support sets");
        bind = { scope: "undefined", index: -1, first: null };
      } else {
        bind = { scope: "undefined", index: -1, first: null };
        const load = this.names.loadFor?.(id.name);
        const hint = load ? "" : this.spellcheck(use);
        this.errorf(id.start, `undefined: ${id.name}${load ? ` (add ${load})` : hint ? ` (did you mean ${hint}?)` : ""}`);
      }
    }
    id.binding = bind;
    return bind;
  }

  /** A near miss among the names visible from the use: enclosing locals and the module's globals. */
  private spellcheck(use: Use): string {
    const names: string[] = [];
    for (let b: Block | null = use.env; b; b = b.parent) {
      for (const [name, bind] of b.bindings) if (bind.scope !== "undefined") names.push(name);
    }
    for (const g of this.moduleGlobals) names.push(g.first!.name);
    names.sort();
    // The host's names come after the file's own, so that a near local or global wins a tie.
    if (this.names.suggestions) names.push(...[...this.names.suggestions()].sort());
    return nearest(use.id.name, names);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Statements

  private stmts(stmts: A.Stmt[]): void {
    for (const s of stmts) this.stmt(s);
  }

  private stmt(s: A.Stmt): void {
    switch (s.kind) {
      case "ExprStmt":
        this.expr(s.x);
        break;
      case "BranchStmt":
        if (this.loops === 0 && (s.token === "break" || s.token === "continue")) {
          this.errorf(s.start, `${s.token} not in a loop`);
        }
        break;
      case "IfStmt":
        if (!this.topLevelControl() && this.container().fn === null) {
          this.errorf(s.start, "if statement not within a function");
        }
        this.expr(s.cond);
        this.ifstmts++;
        this.stmts(s.then);
        this.stmts(s.else_);
        this.ifstmts--;
        break;
      case "AssignStmt":
        this.expr(s.rhs);
        this.assign(s.lhs, s.op !== "=");
        break;
      case "DefStmt": {
        this.bind(s.name);
        const fn = newFunction(s.name.name, s.start, s.params, s.body);
        s.fn = fn;
        this.function(fn);
        break;
      }
      case "ForStmt":
        if (!this.topLevelControl() && this.container().fn === null) {
          this.errorf(s.start, "for loop not within a function");
        }
        this.expr(s.x);
        this.assign(s.vars, false);
        this.loops++;
        this.stmts(s.body);
        this.loops--;
        break;
      case "WhileStmt":
        if (!this.opts.while) this.errorf(s.start, DOESNT + "support while loops");
        if (!this.topLevelControl() && this.container().fn === null) {
          this.errorf(s.start, "while loop not within a function");
        }
        this.expr(s.cond);
        this.loops++;
        this.stmts(s.body);
        this.loops--;
        break;
      case "ReturnStmt":
        if (this.container().fn === null) this.errorf(s.start, "return statement not within a function");
        if (s.result) this.expr(s.result);
        break;
      case "LoadStmt":
        this.load(s);
        break;
    }
  }

  private load(s: A.LoadStmt): void {
    // A load statement may not be nested in any other statement.
    if (this.container().fn !== null) this.errorf(s.start, "load statement within a function");
    else if (this.loops > 0) this.errorf(s.start, "load statement within a loop");
    else if (this.ifstmts > 0) this.errorf(s.start, "load statement within a conditional");

    for (let i = 0; i < s.from.length; i++) {
      const from = s.from[i]!;
      if (from.name === "") {
        this.errorf(from.start, "load: empty identifier");
        continue;
      }
      if (from.name[0] === "_") {
        this.errorf(from.start, `load: names with leading underscores are not exported: ${from.name}`);
      }
      const id = s.to[i]!;
      if (this.opts.loadBindsGlobally) this.bind(id);
      else if (this.bindLocal(id) && !this.opts.globalReassign) {
        // "Global" in globalReassign is a misnomer for "top-level".
        this.errorf(id.start, `cannot reassign top-level ${id.name}`);
      }
    }
  }

  private assign(lhs: A.Expr, isAugmented: boolean): void {
    switch (lhs.kind) {
      case "Ident":
        this.bind(lhs);
        break;
      case "IndexExpr":
        this.expr(lhs.x);
        this.expr(lhs.y);
        break;
      case "DotExpr":
        this.expr(lhs.x);
        break;
      case "TupleExpr":
        if (isAugmented) this.errorf(lhs.start, "can't use tuple expression in augmented assignment");
        for (const e of lhs.elts) this.assign(e, isAugmented);
        break;
      case "ListExpr":
        if (isAugmented) this.errorf(lhs.start, "can't use list expression in augmented assignment");
        for (const e of lhs.elts) this.assign(e, isAugmented);
        break;
      case "ParenExpr":
        this.assign(lhs.x, isAugmented);
        break;
      default:
        // starlark-go names the node type in lower case: "can't assign to literal", "... to callexpr".
        this.errorf(lhs.start, `can't assign to ${lhs.kind.toLowerCase()}`);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Expressions

  private expr(e: A.Expr): void {
    switch (e.kind) {
      case "Ident":
        this.use(e);
        break;
      case "Literal":
        break;
      case "ParenExpr":
        this.expr(e.x);
        break;
      case "TupleExpr":
      case "ListExpr":
        for (const x of e.elts) this.expr(x);
        break;
      case "DictExpr":
        for (const entry of e.entries) {
          this.expr(entry.key);
          this.expr(entry.value);
        }
        break;
      case "Comprehension": {
        // The operand of the first `for` is resolved in the enclosing block; consider [x for x in x].
        const first = e.clauses[0] as A.ForClause;
        this.expr(first.x);
        // A comprehension is a new lexical block; its variables take slots in the enclosing container.
        this.push(new Block(this.env, null));
        this.assign(first.vars, false);
        for (let i = 1; i < e.clauses.length; i++) {
          const c = e.clauses[i]!;
          if (c.kind === "IfClause") this.expr(c.cond);
          else {
            this.expr(c.x);
            this.assign(c.vars, false);
          }
        }
        if (e.body.kind === "DictEntry") {
          this.expr(e.body.key);
          this.expr(e.body.value);
        } else this.expr(e.body);
        this.pop();
        break;
      }
      case "UnaryExpr":
        this.expr(e.x);
        break;
      case "BinaryExpr":
        this.expr(e.x);
        this.expr(e.y);
        break;
      case "CondExpr":
        this.expr(e.cond);
        this.expr(e.then);
        this.expr(e.else_);
        break;
      case "DotExpr":
        this.expr(e.x);
        break;
      case "IndexExpr":
        this.expr(e.x);
        this.expr(e.y);
        break;
      case "SliceExpr":
        this.expr(e.x);
        if (e.lo) this.expr(e.lo);
        if (e.hi) this.expr(e.hi);
        if (e.step) this.expr(e.step);
        break;
      case "CallExpr":
        this.call(e);
        break;
      case "LambdaExpr": {
        const ret: A.ReturnStmt = { kind: "ReturnStmt", start: e.body.start, end: e.body.end, result: e.body };
        const fn = newFunction("lambda", e.start, e.params, [ret]);
        e.fn = fn;
        this.function(fn);
        break;
      }
    }
  }

  private call(e: A.CallExpr): void {
    this.expr(e.fn);
    let seenVarargs = false;
    let seenKwargs = false;
    const seenName = new Set<string>();
    let n = 0;
    let p = 0;
    for (const arg of e.args) {
      switch (arg.type) {
        case "starstar":
          if (seenKwargs) this.errorf(arg.start, "multiple **kwargs not allowed");
          seenKwargs = true;
          this.expr(arg.value);
          break;
        case "star":
          if (seenKwargs) this.errorf(arg.start, "*args may not follow **kwargs");
          else if (seenVarargs) this.errorf(arg.start, "multiple *args not allowed");
          seenVarargs = true;
          this.expr(arg.value);
          break;
        case "named": {
          n++;
          if (seenKwargs) this.errorf(arg.start, "keyword argument may not follow **kwargs");
          else if (seenVarargs) this.errorf(arg.start, "keyword argument may not follow *args");
          const name = arg.name!;
          if (seenName.has(name.name)) this.errorf(name.start, `keyword argument ${name.name} repeated`);
          else seenName.add(name.name);
          this.expr(arg.value);
          break;
        }
        case "positional":
          p++;
          if (seenVarargs) this.errorf(arg.start, "positional argument may not follow *args");
          else if (seenKwargs) this.errorf(arg.start, "positional argument may not follow **kwargs");
          else if (seenName.size > 0) this.errorf(arg.start, "positional argument may not follow named");
          this.expr(arg.value);
          break;
      }
    }
    // The compiler's limits, reported statically as starlark-go does.
    if (p >= 256) this.errorf(e.start, `${p} positional arguments in call, limit is 255`);
    if (n >= 256) this.errorf(e.start, `${n} keyword arguments in call, limit is 255`);
  }

  private function(fn: A.FunctionScope): void {
    // Defaults are evaluated in the enclosing environment.
    for (const param of fn.params) if (param.default) this.expr(param.default);

    const b = new Block(this.env, fn);
    this.push(b);
    const savedLoops = this.loops;
    const savedIfs = this.ifstmts;
    this.loops = 0;
    this.ifstmts = 0;

    let seenOptional = false;
    let star: A.Param | null = null; // * or *args
    let starStar: A.Ident | null = null; // **kwargs
    let numKwonly = 0;
    for (const param of fn.params) {
      switch (param.type) {
        case "required": {
          const id = param.name!;
          if (starStar) this.errorf(id.start, `required parameter may not follow **${starStar.name}`);
          else if (star) numKwonly++;
          else if (seenOptional) this.errorf(id.start, "required parameter may not follow optional");
          if (this.bind(id)) this.errorf(id.start, `duplicate parameter: ${id.name}`);
          break;
        }
        case "optional": {
          const id = param.name!;
          const eq = param.eq ?? param.start; // starlark-go points at the `=`
          if (starStar) this.errorf(eq, `optional parameter may not follow **${starStar.name}`);
          else if (star) numKwonly++;
          if (this.bind(id)) this.errorf(eq, `duplicate parameter: ${id.name}`);
          seenOptional = true;
          break;
        }
        case "star":
          if (starStar) this.errorf(param.start, `* parameter may not follow **${starStar.name}`);
          else if (star) this.errorf(param.start, "multiple * parameters not allowed");
          else star = param;
          break;
        case "starstar":
          if (starStar) this.errorf(param.start, "multiple ** parameters not allowed");
          starStar = param.name!;
          break;
      }
    }

    // *args and **kwargs take the last slots, so that the ordinary parameters are contiguous and there is no hole
    // for a bare "*": def f(a, b, *args, c=0, **kwargs) and def f(a, b, *, c=0, **kwargs).
    if (star) {
      if (star.name) {
        if (this.bind(star.name)) this.errorf(star.name.start, `duplicate parameter: ${star.name.name}`);
        fn.hasVarargs = true;
      } else if (numKwonly === 0) {
        this.errorf(star.start, "bare * must be followed by keyword-only parameters");
      }
    }
    if (starStar) {
      if (this.bind(starStar)) this.errorf(starStar.start, `duplicate parameter: ${starStar.name}`);
      fn.hasKwargs = true;
    }
    fn.numKwonlyParams = numKwonly;

    this.stmts(fn.body);
    this.resolveLocalUses(b);
    this.loops = savedLoops;
    this.ifstmts = savedIfs;
    this.pop();
    // Uses of globals in the body are resolved at the end of the module; the cell list is final only then.
    this.pendingCells.push(fn);
  }

  readonly pendingCells: A.FunctionScope[] = [];
}

function newFunction(name: string, pos: A.Pos, params: A.Param[], body: A.Stmt[]): A.FunctionScope {
  return {
    name,
    pos,
    params,
    body,
    hasVarargs: false,
    hasKwargs: false,
    numKwonlyParams: 0,
    locals: [],
    freeVars: [],
    cells: [],
  };
}

function cellsOf(locals: A.Binding[]): number[] {
  const cells: number[] = [];
  for (let i = 0; i < locals.length; i++) if (locals[i]!.scope === "cell") cells.push(i);
  return cells;
}

/** Looks a use up in the blocks of its own function (not beyond). */
function lookupLocal(use: Use): A.Binding | undefined {
  for (let env: Block | null = use.env; env; env = env.parent) {
    const bind = env.bindings.get(use.id.name);
    if (bind) return bind;
    if (env.fn) break;
  }
  return undefined;
}

/**
 * Resolves a parsed file in place (Ident.binding, DefStmt.fn, LambdaExpr.fn, File.module) and returns the static
 * errors in the order found. The AST must not be evaluated when errors are returned.
 */
export function resolveFile(file: A.File, options: DialectOptions, names: NameSets): Diagnostic[] {
  const r = new Resolver(file.filename, options, names);
  file.module = r.resolveFile(file);
  for (const fn of r.pendingCells) fn.cells = cellsOf(fn.locals);
  // In the order found, as starlark-go reports them: top-level uses at once, function bodies' free names at the end.
  return r.errors;
}
