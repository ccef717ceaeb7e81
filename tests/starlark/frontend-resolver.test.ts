/** Resolver: bindings of every identifier, function/module slot layout, closures, collected errors. */
import { describe, expect, test } from "bun:test";
import type * as A from "../../src/starlark/syntax/ast.ts";
import { parseFile } from "../../src/starlark/syntax/parser.ts";
import { StarlarkSyntaxError } from "../../src/starlark/syntax/errors.ts";
import { checkFile, parseAndResolve, resolveFile } from "../../src/starlark/resolve/index.ts";
import type { DialectOptions } from "../../src/starlark/options.ts";

const names = { isPredeclared: (n: string) => n === "host", isUniversal: (n: string) => ["len", "range", "set", "print"].includes(n) };

function resolve(src: string, opts: DialectOptions = {}): A.File {
  return parseAndResolve("t.star", src, opts, names);
}
function errors(src: string, opts: DialectOptions = {}): string[] {
  const f = parseFile("t.star", src);
  return resolveFile(f, opts, names).map((d) => `${d.pos.line}:${d.pos.col}: ${d.message}`);
}
const b = (x: A.Binding | null) => (x ? `${x.scope}:${x.index}` : "null");
const slots = (fn: A.FunctionScope) => fn.locals.map((l) => `${l.first!.name}=${b(l)}`);

/** Every identifier of an expression tree with its binding, in source order. */
function idents(node: unknown, out: string[] = []): string[] {
  if (!node || typeof node !== "object") return out;
  const n = node as { kind?: string; name?: unknown; binding?: A.Binding | null };
  if (n.kind === "Ident" && typeof n.name === "string") {
    out.push(`${n.name}=${b(n.binding ?? null)}`);
    return out;
  }
  for (const [k, v] of Object.entries(node)) {
    if ((k === "fn" && n.kind !== "CallExpr") || k === "start" || k === "end" || k === "module" || k === "binding") continue;
    if (k === "name" && n.kind === "DotExpr") continue;
    if (Array.isArray(v)) v.forEach((x) => idents(x, out));
    else idents(v, out);
  }
  return out;
}

describe("resolver: bindings", () => {
  test("globals, predeclared and universal names at top level", () => {
    const f = resolve("x = len(host)\ny = x\n");
    expect(idents(f.stmts)).toEqual(["x=global:0", "len=universal:-1", "host=predeclared:-1", "y=global:1", "x=global:0"]);
    expect(f.module!.globals.map((g) => g.first!.name)).toEqual(["x", "y"]);
  });

  test("function parameters come first in the locals, *args and **kwargs last", () => {
    const f = resolve("def f(a, b=1, *args, c, **kw):\n  d = a\n  return d\n");
    const fn = (f.stmts[0] as A.DefStmt).fn!;
    expect(slots(fn)).toEqual(["a=local:0", "b=local:1", "c=local:2", "args=local:3", "kw=local:4", "d=local:5"]);
    expect(fn).toMatchObject({ hasVarargs: true, hasKwargs: true, numKwonlyParams: 1, freeVars: [], cells: [] });
  });

  test("closures: captured locals become cells, inner functions get free variables", () => {
    const f = resolve("def outer(a):\n  c = 1\n  def inner():\n    return a + c + len\n  return inner\n");
    const outer = (f.stmts[0] as A.DefStmt).fn!;
    const innerDef = outer.body[1] as A.DefStmt;
    const inner = innerDef.fn!;
    expect(slots(outer)).toEqual(["a=cell:0", "c=cell:1", "inner=local:2"]);
    expect(outer.cells).toEqual([0, 1]);
    expect(inner.freeVars.map(b)).toEqual(["cell:0", "cell:1"]);
    expect(idents(inner.body)).toEqual(["a=free:0", "c=free:1", "len=universal:-1"]);
  });

  test("free variables pass through intermediate functions", () => {
    const f = resolve("def a(x):\n  def b():\n    def c():\n      return x\n    return c\n  return b\n");
    const fa = (f.stmts[0] as A.DefStmt).fn!;
    const fb = (fa.body[0] as A.DefStmt).fn!;
    const fc = (fb.body[0] as A.DefStmt).fn!;
    expect(slots(fa)).toEqual(["x=cell:0", "b=local:1"]);
    expect(fb.freeVars.map(b)).toEqual(["cell:0"]);
    expect(fc.freeVars.map(b)).toEqual(["free:0"]);
    expect(idents(fc.body)).toEqual(["x=free:0"]);
  });

  test("comprehension variables are locals of the enclosing function; the first operand is resolved outside", () => {
    const f = resolve("def f(x):\n  return [x for x in x]\n");
    const fn = (f.stmts[0] as A.DefStmt).fn!;
    expect(slots(fn)).toEqual(["x=local:0", "x=local:1"]);
    expect(idents(fn.body)).toEqual(["x=local:1", "x=local:1", "x=local:0"]);
    const top = resolve("y = [z for z in range(3)]\n");
    expect(top.module!.locals.map((l) => `${l.first!.name}=${b(l)}`)).toEqual(["z=local:0"]);
  });

  test("a lambda captures like a def", () => {
    const f = resolve("def f(n):\n  return lambda x: x + n\n");
    const fn = (f.stmts[0] as A.DefStmt).fn!;
    const lam = (fn.body[0] as A.ReturnStmt).result as A.LambdaExpr;
    expect(lam.fn!.name).toBe("lambda");
    expect(slots(lam.fn!)).toEqual(["x=local:0"]);
    expect(lam.fn!.freeVars.map(b)).toEqual(["cell:0"]);
  });

  test("load binds file-local names (module locals) that functions capture; or globals with loadBindsGlobally", () => {
    const f = resolve('load("m.star", "a")\ndef g():\n  return a\n');
    expect(f.module!.locals.map(b)).toEqual(["cell:0"]);
    expect(f.module!.cells).toEqual([0]);
    expect(f.module!.globals.map((g) => g.first!.name)).toEqual(["g"]);
    const g = resolve('load("m.star", "a")\ndef g():\n  return a\n', { loadBindsGlobally: true });
    expect(g.module!.globals.map((x) => x.first!.name)).toEqual(["a", "g"]);
    expect(g.module!.locals).toEqual([]);
  });

  test("functions may use globals defined later in the file", () => {
    expect(errors("def f():\n  return g()\ndef g():\n  return 1\n")).toEqual([]);
  });

  test("a local used before its assignment in the function is still local", () => {
    const f = resolve("x = 1\ndef f():\n  print(x)\n  x = 2\n");
    const fn = (f.stmts[1] as A.DefStmt).fn!;
    expect(idents(fn.body)).toEqual(["print=universal:-1", "x=local:0", "x=local:0"]);
  });
});

describe("resolver: errors", () => {
  test("all errors are collected, in starlark-go's order: free names at the end, nested blocks' before the file's", () => {
    const src = "a = b\nc = d\ndef f():\n  break\n  return e\n";
    expect(errors(src)).toEqual(["4:3: break not in a loop", "5:10: undefined: e", "1:5: undefined: b", "2:5: undefined: d"]);
    // With globalreassign a top-level use is resolved where it stands; function bodies still come last.
    expect(errors(src, { globalReassign: true })).toEqual([
      "1:5: undefined: b",
      "2:5: undefined: d",
      "4:3: break not in a loop",
      "5:10: undefined: e",
    ]);
  });

  test("did-you-mean hints come from locals and globals", () => {
    expect(errors("fob = 1\nx = foo\n")).toEqual(["2:5: undefined: foo (did you mean fob?)"]);
    expect(errors("def f(counter):\n  return countr\n")).toEqual(["2:10: undefined: countr (did you mean counter?)"]);
    expect(errors("x = zzzzzz\n")).toEqual(["1:5: undefined: zzzzzz"]);
  });

  test("reassignment rules and globalReassign", () => {
    expect(errors("x = 1\nx = 2\n")).toEqual(["2:1: cannot reassign global x declared at t.star:1:1"]);
    expect(errors("x = 1\nx += 2\n")).toEqual(["2:1: cannot reassign global x declared at t.star:1:1"]);
    expect(errors("x = 1\nx = 2\n", { globalReassign: true })).toEqual([]);
    expect(errors("def f(): pass\ndef f(): pass\n")).toEqual(["2:5: cannot reassign global f declared at t.star:1:5"]);
  });

  test("top-level control needs topLevelControl (or globalReassign); while needs its option", () => {
    expect(errors("if 1:\n  pass\n")).toEqual(["1:1: if statement not within a function"]);
    expect(errors("if 1:\n  pass\n", { topLevelControl: true })).toEqual([]);
    expect(errors("for x in []:\n  pass\n", { globalReassign: true })).toEqual([]);
    expect(errors("def f():\n  while 1:\n    pass\n")).toEqual(["2:3: this Starlark dialect does not support while loops"]);
    expect(errors("def f():\n  while 1:\n    continue\n", { while: true })).toEqual([]);
  });

  test("set needs the set option", () => {
    expect(errors("s = set()\n")).toEqual(["1:5: this Starlark dialect does not support sets"]);
    expect(errors("s = set()\n", { set: true })).toEqual([]);
  });

  test("checkFile throws one StarlarkSyntaxError holding every diagnostic", () => {
    try {
      checkFile("t.star", "x = y\nz = w\n");
      throw new Error("no error");
    } catch (e) {
      expect(e).toBeInstanceOf(StarlarkSyntaxError);
      const err = e as StarlarkSyntaxError;
      expect(err.diagnostics.map((d) => d.message)).toEqual(["undefined: y", "undefined: w"]);
      expect(err.message).toBe("t.star:1:5: undefined: y");
      expect(err.render()).toContain("x = y\n        ^");
    }
    expect(() => checkFile("t.star", "x = len([])\n")).not.toThrow();
  });
});
