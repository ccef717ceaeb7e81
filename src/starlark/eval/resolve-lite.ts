/**
 * A minimal name resolver used by the evaluator until the front end's resolver (resolve/resolver.ts) is in place:
 * it fills in the AST's binding annotations (local/cell/free/global/predeclared/universal, slots, closures'
 * free variables) following starlark-go's rules, and reports the main static errors (undefined names, global
 * reassignment, top-level control flow and `while` without their dialect options).
 */
import type * as A from "../syntax/ast.ts";
import type { DialectOptions } from "../options.ts";
import { StarlarkSyntaxError, type Diagnostic } from "../syntax/errors.ts";
import { nearest } from "../values/spell.ts";

interface Fn {
  locals: A.Binding[];
  freeVars: A.Binding[];
  /** outer binding -> this function's "free" binding */
  captured: Map<A.Binding, A.Binding>;
  parent: Fn | null;
  isModule: boolean;
}

interface Block {
  parent: Block | null;
  fn: Fn;
  names: Map<string, A.Binding>;
  isModuleTop: boolean;
}

export interface ResolveNames {
  isPredeclared: (name: string) => boolean;
  isUniversal: (name: string) => boolean;
}

export function resolveLite(file: A.File, options: DialectOptions, names: ResolveNames): void {
  const errors: Diagnostic[] = [];
  const err = (pos: A.Pos, message: string): void => {
    errors.push({ pos: { file: file.filename, line: pos.line, col: pos.col }, message });
  };
  const moduleFn: Fn = { locals: [], freeVars: [], captured: new Map(), parent: null, isModule: true };
  const globals: A.Binding[] = [];
  const globalNames = new Map<string, A.Binding>();
  const moduleBlock: Block = { parent: null, fn: moduleFn, names: new Map(), isModuleTop: true };

  const newLocal = (fn: Fn, id: A.Ident | null): A.Binding => {
    const b: A.Binding = { scope: "local", index: fn.locals.length, first: id };
    fn.locals.push(b);
    return b;
  };

  // ---- binding collection ----

  const bindTarget = (e: A.Expr, f: (id: A.Ident) => void): void => {
    switch (e.kind) {
      case "Ident":
        f(e);
        break;
      case "ParenExpr":
        bindTarget(e.x, f);
        break;
      case "TupleExpr":
      case "ListExpr":
        for (const x of e.elts) bindTarget(x, f);
        break;
      default:
        break; // x[i] = ..., x.f = ...: no binding
    }
  };

  /** Names bound directly in a function body (not in nested functions or comprehensions). */
  const collect = (stmts: A.Stmt[], f: (id: A.Ident, stmt: A.Stmt) => void): void => {
    for (const s of stmts) {
      switch (s.kind) {
        case "AssignStmt":
          bindTarget(s.lhs, (id) => f(id, s));
          break;
        case "DefStmt":
          f(s.name, s);
          break;
        case "ForStmt":
          bindTarget(s.vars, (id) => f(id, s));
          collect(s.body, f);
          break;
        case "WhileStmt":
          collect(s.body, f);
          break;
        case "IfStmt":
          collect(s.then, f);
          collect(s.else_, f);
          break;
        case "LoadStmt":
          for (const id of s.to) f(id, s);
          break;
        default:
          break;
      }
    }
  };

  // ---- uses ----

  const lookup = (block: Block, id: A.Ident): A.Binding | undefined => {
    const name = id.name;
    for (let b: Block | null = block; b !== null; b = b.parent) {
      const found = b.names.get(name);
      if (found === undefined) continue;
      if (found.scope === "global" || b.fn === block.fn) return found;
      return capture(block.fn, b.fn, found);
    }
    const g = globalNames.get(name);
    if (g !== undefined) return g;
    return undefined;
  };

  /** Makes `outer` (a local of function `owner`) visible in `fn` as a free variable, through every level between. */
  const capture = (fn: Fn, owner: Fn, outer: A.Binding): A.Binding => {
    if (fn === owner) return outer;
    const viaParent = capture(fn.parent!, owner, outer);
    if (viaParent.scope === "local") viaParent.scope = "cell";
    let mine = fn.captured.get(viaParent);
    if (mine === undefined) {
      mine = { scope: "free", index: fn.freeVars.length, first: outer.first };
      fn.freeVars.push(viaParent);
      fn.captured.set(viaParent, mine);
    }
    return mine;
  };

  const use = (block: Block, id: A.Ident): void => {
    const b = lookup(block, id);
    if (b !== undefined) {
      id.binding = b;
      return;
    }
    if (names.isPredeclared(id.name)) id.binding = { scope: "predeclared", index: -1, first: null };
    else if (names.isUniversal(id.name)) id.binding = { scope: "universal", index: -1, first: null };
    else {
      const candidates = new Set<string>();
      for (let b2: Block | null = block; b2 !== null; b2 = b2.parent) for (const n of b2.names.keys()) candidates.add(n);
      for (const n of globalNames.keys()) candidates.add(n);
      const hint = nearest(id.name, candidates);
      err(id.start, `undefined: ${id.name}${hint ? ` (did you mean ${hint}?)` : ""}`);
      id.binding = { scope: "undefined", index: -1, first: null };
    }
  };

  const expr = (block: Block, e: A.Expr | null): void => {
    if (e === null) return;
    switch (e.kind) {
      case "Ident":
        use(block, e);
        break;
      case "Literal":
        break;
      case "ParenExpr":
        expr(block, e.x);
        break;
      case "TupleExpr":
      case "ListExpr":
        for (const x of e.elts) expr(block, x);
        break;
      case "DictExpr":
        for (const en of e.entries) {
          expr(block, en.key);
          expr(block, en.value);
        }
        break;
      case "Comprehension": {
        const first = e.clauses[0] as A.ForClause;
        expr(block, first.x);
        const inner: Block = { parent: block, fn: block.fn, names: new Map(), isModuleTop: false };
        for (let i = 0; i < e.clauses.length; i++) {
          const c = e.clauses[i]!;
          if (c.kind === "ForClause") {
            if (i > 0) expr(inner, c.x);
            bindTarget(c.vars, (id) => {
              let b = inner.names.get(id.name);
              if (b === undefined) {
                b = newLocal(block.fn, id);
                inner.names.set(id.name, b);
              }
            });
            assignTarget(inner, c.vars);
          } else expr(inner, c.cond);
        }
        if (e.curly) {
          const en = e.body as A.DictEntry;
          expr(inner, en.key);
          expr(inner, en.value);
        } else expr(inner, e.body as A.Expr);
        break;
      }
      case "UnaryExpr":
        expr(block, e.x);
        break;
      case "BinaryExpr":
        expr(block, e.x);
        expr(block, e.y);
        break;
      case "CondExpr":
        expr(block, e.cond);
        expr(block, e.then);
        expr(block, e.else_);
        break;
      case "DotExpr":
        expr(block, e.x);
        break;
      case "IndexExpr":
        expr(block, e.x);
        expr(block, e.y);
        break;
      case "SliceExpr":
        expr(block, e.x);
        expr(block, e.lo);
        expr(block, e.hi);
        expr(block, e.step);
        break;
      case "CallExpr":
        expr(block, e.fn);
        for (const a of e.args) expr(block, a.value);
        break;
      case "LambdaExpr": {
        const body: A.Stmt[] = [{ kind: "ReturnStmt", start: e.body.start, end: e.body.end, result: e.body }];
        e.fn = func(block, "lambda", e.start, e.params, body);
        break;
      }
    }
  };

  /** Resolves the identifiers of an assignment target (they are already bound in some block). */
  const assignTarget = (block: Block, e: A.Expr): void => {
    switch (e.kind) {
      case "Ident":
        use(block, e);
        break;
      case "ParenExpr":
        assignTarget(block, e.x);
        break;
      case "TupleExpr":
      case "ListExpr":
        for (const x of e.elts) assignTarget(block, x);
        break;
      default:
        expr(block, e);
    }
  };

  const func = (outer: Block, name: string, pos: A.Pos, params: A.Param[], body: A.Stmt[]): A.FunctionScope => {
    // Defaults are evaluated in the enclosing scope.
    for (const p of params) if (p.default) expr(outer, p.default);
    const fn: Fn = { locals: [], freeVars: [], captured: new Map(), parent: outer.fn, isModule: false };
    const block: Block = { parent: outer, fn, names: new Map(), isModuleTop: false };
    let hasVarargs = false,
      hasKwargs = false,
      numKwonly = 0,
      seenStar = false;
    let star: A.Param | undefined, starstar: A.Param | undefined;
    for (const p of params) {
      if (p.type === "star") {
        seenStar = true;
        if (p.name) {
          hasVarargs = true;
          star = p;
        }
      } else if (p.type === "starstar") {
        hasKwargs = true;
        starstar = p;
      } else {
        if (seenStar) numKwonly++;
        declare(block, p.name!);
      }
    }
    if (star) declare(block, star.name!);
    if (starstar) declare(block, starstar.name!);
    collect(body, (id) => {
      if (!block.names.has(id.name)) declare(block, id);
    });
    for (const s of body) stmt(block, s, 0);
    const fs: A.FunctionScope = {
      name,
      pos,
      params,
      body,
      hasVarargs,
      hasKwargs,
      numKwonlyParams: numKwonly,
      locals: fn.locals,
      freeVars: fn.freeVars,
      cells: [],
    };
    // Cells may be discovered later (by functions nested deeper): compute lazily at the end.
    pendingCells.push(fs);
    return fs;
  };
  const pendingCells: A.FunctionScope[] = [];

  const declare = (block: Block, id: A.Ident): A.Binding => {
    const b = newLocal(block.fn, id);
    block.names.set(id.name, b);
    id.binding = b;
    return b;
  };

  const stmt = (block: Block, s: A.Stmt, loopDepth: number): void => {
    const top = block.isModuleTop;
    switch (s.kind) {
      case "ExprStmt":
        expr(block, s.x);
        break;
      case "AssignStmt":
        expr(block, s.rhs);
        if (s.op !== "=") expr(block, s.lhs);
        else assignTarget(block, s.lhs);
        break;
      case "DefStmt":
        s.fn = func(block, s.name.name, s.start, s.params, s.body);
        use(block, s.name);
        break;
      case "ForStmt":
        if (top && !options.topLevelControl && !options.globalReassign) err(s.start, "for loop not within a function");
        expr(block, s.x);
        assignTarget(block, s.vars);
        for (const b of s.body) stmt(block, b, loopDepth + 1);
        break;
      case "WhileStmt":
        if (!options.while) err(s.start, "dialect does not support while loops");
        else if (top && !options.topLevelControl && !options.globalReassign) err(s.start, "while loop not within a function");
        expr(block, s.cond);
        for (const b of s.body) stmt(block, b, loopDepth + 1);
        break;
      case "IfStmt":
        if (top && !s.elif && !options.topLevelControl && !options.globalReassign) err(s.start, "if statement not within a function");
        expr(block, s.cond);
        for (const b of s.then) stmt(block, b, loopDepth);
        for (const b of s.else_) stmt(block, b, loopDepth);
        break;
      case "ReturnStmt":
        if (block.fn.isModule) err(s.start, "return statement not within a function");
        expr(block, s.result);
        break;
      case "BranchStmt":
        if (s.token !== "pass" && loopDepth === 0) err(s.start, `${s.token} not in a loop`);
        break;
      case "LoadStmt":
        if (!top) err(s.start, "load statement within a nested block");
        for (const id of s.to) use(block, id);
        break;
    }
  };

  // Module level: globals (and file-local load bindings) first, then resolve everything.
  const seenAt = new Map<string, A.Ident>();
  collect(file.stmts, (id, s) => {
    const prev = seenAt.get(id.name);
    const isLoad = s.kind === "LoadStmt" && !options.loadBindsGlobally;
    if (prev !== undefined) {
      if (!options.globalReassign) {
        const kind = isLoad || moduleBlock.names.has(id.name) ? "local" : "global";
        err(id.start, `cannot reassign ${kind} ${id.name} declared at ${file.filename}:${prev.start.line}:${prev.start.col}`);
      }
      return;
    }
    seenAt.set(id.name, id);
    if (isLoad) {
      const b = newLocal(moduleFn, id);
      moduleBlock.names.set(id.name, b);
    } else {
      const b: A.Binding = { scope: "global", index: globals.length, first: id };
      globals.push(b);
      globalNames.set(id.name, b);
    }
  });
  for (const s of file.stmts) stmt(moduleBlock, s, 0);

  for (const fs of pendingCells) fs.cells = fs.locals.flatMap((b, i) => (b.scope === "cell" ? [i] : []));
  file.module = {
    locals: moduleFn.locals,
    globals,
    cells: moduleFn.locals.flatMap((b, i) => (b.scope === "cell" ? [i] : [])),
  };
  if (errors.length > 0) throw new StarlarkSyntaxError(errors);
}
