/** Parser: AST shapes, operator precedence, positions, and errors as StarlarkSyntaxError with a caret rendering. */
import { describe, expect, test } from "bun:test";
import type * as A from "../../src/starlark/syntax/ast.ts";
import { StarlarkSyntaxError } from "../../src/starlark/syntax/errors.ts";
import { parseFile, validateGrammar } from "../../src/starlark/syntax/parser.ts";

/** A compact prefix rendering of an expression, to check structure and precedence. */
function show(e: A.Expr | A.DictEntry | null): string {
  if (!e) return "_";
  switch (e.kind) {
    case "Ident":
      return e.name;
    case "Literal":
      return typeof e.value === "string" ? JSON.stringify(e.value) : String(e.value);
    case "ParenExpr":
      return `(${show(e.x)})`;
    case "TupleExpr":
      return `tuple[${e.elts.map(show).join(" ")}]`;
    case "ListExpr":
      return `list[${e.elts.map(show).join(" ")}]`;
    case "DictExpr":
      return `dict[${e.entries.map(show).join(" ")}]`;
    case "DictEntry":
      return `${show(e.key)}:${show(e.value)}`;
    case "UnaryExpr":
      return `(${e.op} ${show(e.x)})`;
    case "BinaryExpr":
      return `(${e.op} ${show(e.x)} ${show(e.y)})`;
    case "CondExpr":
      return `(if ${show(e.cond)} ${show(e.then)} ${show(e.else_)})`;
    case "DotExpr":
      return `${show(e.x)}.${e.name.name}`;
    case "IndexExpr":
      return `${show(e.x)}[${show(e.y)}]`;
    case "SliceExpr":
      return `${show(e.x)}[${show(e.lo)}:${show(e.hi)}:${show(e.step)}]`;
    case "CallExpr":
      return `${show(e.fn)}(${e.args.map((a) => (a.type === "named" ? `${a.name!.name}=` : a.type === "star" ? "*" : a.type === "starstar" ? "**" : "") + show(a.value)).join(" ")})`;
    case "LambdaExpr":
      return `lambda(${e.params.map((p) => p.type).join(" ")}):${show(e.body)}`;
    case "Comprehension":
      return `comp${e.curly ? "{}" : "[]"}(${show(e.body)} ${e.clauses.map((c) => (c.kind === "ForClause" ? `for ${show(c.vars)} in ${show(c.x)}` : `if ${show(c.cond)}`)).join(" ")})`;
  }
}

function expr(src: string): string {
  const s = parseFile("t.star", src + "\n").stmts[0]!;
  if (s.kind !== "ExprStmt") throw new Error(`not an expression: ${s.kind}`);
  return show(s.x);
}

function error(src: string): string {
  try {
    parseFile("t.star", src);
  } catch (e) {
    if (e instanceof StarlarkSyntaxError) return e.message;
    throw e;
  }
  throw new Error("no error");
}

describe("parser: expressions", () => {
  test("binary operators follow the spec's precedence and associate left", () => {
    expect(expr("a or b and not c == d | e ^ f & g << h + i * -j")).toBe(
      "(or a (and b (not (== c (| d (^ e (& f (<< g (+ h (* i (- j)))))))))))",
    );
    expect(expr("a - b - c")).toBe("(- (- a b) c)");
    expect(expr("a // b % c / d")).toBe("(/ (% (// a b) c) d)");
    expect(expr("x not in y")).toBe("(not in x y)");
    expect(expr("-x.y[0](1)")).toBe("(- x.y[0](1))");
    expect(expr("not a == b and c")).toBe("(and (not (== a b)) c)");
    expect(expr("a or not not b | c and d")).toBe("(or a (and (not (not (| b c))) d))");
    expect(expr("a < b and c < d or e in f")).toBe("(or (and (< a b) (< c d)) (in e f))");
  });

  test("conditional expressions, lambdas, comprehensions", () => {
    expect(expr("a if b else c if d else e")).toBe("(if b a (if d c e))");
    expect(expr("lambda x, y=1, *a, **k: x if y else a")).toBe("lambda(required optional star starstar):(if y x a)");
    expect(expr("[x for x in y if x for z in x]")).toBe("comp[](x for x in y if x for z in x)");
    expect(expr("{k: v for k, v in d}")).toBe("comp{}(k:v for tuple[k v] in d)");
    expect(expr("[x for x in y if lambda: 1]")).toBe("comp[](x for x in y if lambda():1)");
  });

  test("tuples, lists, dicts, slices and calls", () => {
    expect(expr("()")).toBe("tuple[]");
    expect(expr("(1,)")).toBe("(tuple[1])");
    expect(expr("(1)")).toBe("(1)");
    expect(expr("1, 2")).toBe("tuple[1 2]");
    expect(expr("[1, [2], {3: 4,},]")).toBe("list[1 list[2] dict[3:4]]");
    expect(expr("x[1:2], x[::2], x[:], x[1,2]")).toBe("tuple[x[1:2:_] x[_:_:2] x[_:_:_] x[tuple[1 2]]]");
    expect(expr("f(1, *a, k=2, **kw)")).toBe("f(1 *a k=2 **kw)");
    expect(expr("f(a, )")).toBe("f(a)");
  });
});

describe("parser: statements", () => {
  test("def with every kind of parameter, and the body", () => {
    const d = parseFile("t.star", "def f(a, b=1, *args, c, d=2, **kw):\n  pass\n  return a\n").stmts[0] as A.DefStmt;
    expect(d.kind).toBe("DefStmt");
    expect(d.name.name).toBe("f");
    expect(d.params.map((p) => `${p.type}:${p.name?.name}`)).toEqual([
      "required:a", "optional:b", "star:args", "required:c", "optional:d", "starstar:kw",
    ]);
    expect(d.body.map((s) => s.kind)).toEqual(["BranchStmt", "ReturnStmt"]);
    expect(d.fn).toBeNull();
    const bare = parseFile("t.star", "def g(*, k): pass\n").stmts[0] as A.DefStmt;
    expect(bare.params[0]).toMatchObject({ type: "star", name: null });
  });

  test("if/elif/else chains nest the elif in else_", () => {
    const s = parseFile("t.star", "if a:\n  x\nelif b:\n  y\nelse:\n  z\n").stmts[0] as A.IfStmt;
    expect(s.elif).toBe(false);
    const elif = s.else_[0] as A.IfStmt;
    expect(elif.kind).toBe("IfStmt");
    expect(elif.elif).toBe(true);
    expect(elif.else_.length).toBe(1);
    expect(s.end).toEqual({ line: 6, col: 4 });
  });

  test("for, while, assignments, augmented assignments, load", () => {
    const f = parseFile("t.star", 'load("m.star", "a", b="c")\nfor x, y in z: pass\nwhile 1: break\n(a, b) = [c, d] = 1, 2\nx += 1\nx //= 2\n'.replace("(a, b) = [c, d] = 1, 2", "(a, b) = 1, 2"));
    expect(f.stmts.map((s) => s.kind)).toEqual(["LoadStmt", "ForStmt", "WhileStmt", "AssignStmt", "AssignStmt", "AssignStmt"]);
    const load = f.stmts[0] as A.LoadStmt;
    expect(load.module.value).toBe("m.star");
    expect(load.from.map((i) => i.name)).toEqual(["a", "c"]);
    expect(load.to.map((i) => i.name)).toEqual(["a", "b"]);
    expect(load.from[0]!.start).toEqual({ line: 1, col: 17 });
    expect((f.stmts[4] as A.AssignStmt).op).toBe("+=");
    expect((f.stmts[5] as A.AssignStmt).op).toBe("//=");
  });

  test("semicolons separate small statements; the last line needs no newline", () => {
    expect(parseFile("t.star", "a; b; c;").stmts.length).toBe(3);
    expect(parseFile("t.star", "if x: pass").stmts.length).toBe(1);
    expect(parseFile("t.star", "").stmts).toEqual([]);
    expect(parseFile("t.star", "\n\n# only a comment\n").stmts).toEqual([]);
  });
});

describe("parser: positions", () => {
  test("every node has start and exclusive end", () => {
    const f = parseFile("t.star", "x = foo(1, b=[2, 3])\n");
    const s = f.stmts[0] as A.AssignStmt;
    expect(s.start).toEqual({ line: 1, col: 1 });
    expect(s.end).toEqual({ line: 1, col: 21 });
    const call = s.rhs as A.CallExpr;
    expect(call.lparen).toEqual({ line: 1, col: 8 });
    expect(call.args[1]!.start).toEqual({ line: 1, col: 12 });
    expect(call.args[1]!.value.end).toEqual({ line: 1, col: 20 });
    expect(f.filename).toBe("t.star");
  });

  test("multi-line string literals end on their last line", () => {
    const s = parseFile("t.star", 'x = """a\nbc"""\n').stmts[0] as A.AssignStmt;
    expect(s.rhs.end).toEqual({ line: 2, col: 6 });
  });
});

describe("parser: errors", () => {
  test("errors are positioned, in starlark-go's wording", () => {
    expect(error("x = 1 +\n")).toBe("t.star:2:1: got newline, want primary expression");
    expect(error("0 == 1 == 2\n")).toBe("t.star:1:10: == does not associate with == (use parens)");
    expect(error("def f(:\n")).toBe("t.star:1:8: got ':', want ')'");
    expect(error("def f(a, :\n")).toBe("t.star:1:11: not an identifier");
    expect(error("x = a == not b\n")).toBe("t.star:1:13: got not, want primary expression");
    expect(error("x = a and b < c < d\n")).toBe("t.star:1:18: < does not associate with < (use parens)");
    expect(error("x = (1,\n")).toBe("t.star:2:1: got end of file, want ')'");
  });

  test("a scanner error is reported only if the parser gets there first", () => {
    expect(error("x = = 'abc\n")).toBe("t.star:1:6: got '=', want primary expression");
    expect(error("x = 'abc\n")).toBe("t.star:1:5: unexpected newline in string");
  });

  test("render shows the source line and a caret under the column", () => {
    try {
      parseFile("t.star", "def f():\n\tx = 1 2\n");
      throw new Error("no error");
    } catch (e) {
      expect(e).toBeInstanceOf(StarlarkSyntaxError);
      const err = e as StarlarkSyntaxError;
      expect(err.diagnostics).toEqual([{ pos: { file: "t.star", line: 2, col: 9 }, message: "got int literal, want newline" }]);
      expect(err.render()).toBe("t.star:2:9: got int literal, want newline\n    \tx = 1 2\n    \t       ^");
    }
  });

  test("the parser is reusable after an error", () => {
    expect(() => parseFile("t.star", "f(\n")).toThrow(StarlarkSyntaxError);
    expect(expr("f(1)")).toBe("f(1)");
  });
});

describe("grammar", () => {
  test("Chevrotain's grammar validations pass (they are skipped at start-up for speed)", () => {
    expect(() => validateGrammar()).not.toThrow();
  });
});
