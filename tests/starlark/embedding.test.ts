/** The embedding API used by the app runtime: exec with predeclared values, load, print, step limits, conversions. */
import { describe, expect, test } from "bun:test";
import {
  Builtin,
  exec,
  fromJS,
  Module,
  None,
  NoSuchAttrError,
  StarlarkEvalError,
  StarlarkSyntaxError,
  Struct,
  str,
  toJS,
  typeName,
  unpackArgs,
  type HostIterable,
  type Value,
} from "../../src/starlark/index.ts";

describe("exec", () => {
  test("returns the frozen globals of the module", () => {
    const g = exec("a.star", "x = [1, 2]\ny = {'k': x}\n");
    expect(toJS(g.x!)).toEqual([1, 2]);
    expect(() => exec("b.star", "x.append(3)\n", { predeclared: { x: g.x! } })).toThrow("cannot append to frozen list");
  });

  test("predeclared builtins receive positional and keyword arguments", () => {
    const seen: unknown[] = [];
    const app = new Builtin("ace.app", (_t, args, kwargs) => {
      const [name, routes] = unpackArgs("ace.app", args, kwargs, ["name", "routes?"]);
      seen.push(toJS(name!), routes === undefined ? null : toJS(routes));
      return new Struct({ name: name! });
    });
    const g = exec("app.star", 'a = app("demo", routes=[1])\nn = a.name\n', { predeclared: { app } });
    expect(seen).toEqual(["demo", [1]]);
    expect(g.n).toBe("demo");
  });

  test("unpackArgs reports unknown keywords with starlark-go's suggestion (drawn from the first half of the parameters)", () => {
    const app = new Builtin("ace.app", (_t, args, kwargs) => {
      unpackArgs("ace.app", args, kwargs, ["name", "routes?", "style?", "container?"]);
      return None;
    });
    const run = (src: string) => () => exec("app.star", src, { predeclared: { app } });
    expect(run('app("x", route=[])\n')).toThrow('ace.app: unexpected keyword argument "route" (did you mean routes?)');
    let message = "";
    try {
      run('app("x", containr=1)\n')();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toEndWith('ace.app: unexpected keyword argument "containr"');
  });

  test("load calls the host and print goes to the callback", () => {
    const lines: string[] = [];
    exec("main.star", 'load("lib.star", "greet")\nprint(greet, 1, sep="-")\n', {
      load: (module): Record<string, Value> => (module === "lib.star" ? { greet: "hello" } : {}),
      print: (m) => lines.push(m),
    });
    expect(lines).toEqual(["hello-1"]);
  });

  test("runtime errors carry a position, a backtrace and a rendering with a caret", () => {
    const src = "def f():\n    return 1 // 0\n\ndef g():\n    return f()\n\ng()\n";
    let err: unknown;
    try {
      exec("t.star", src);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StarlarkEvalError);
    const e = err as StarlarkEvalError;
    expect(e.message).toBe("floored division by zero");
    expect(e.pos).toEqual({ file: "t.star", line: 2, col: 14 });
    expect(e.backtrace.map((f) => `${f.fn}@${f.line}`)).toEqual(["<toplevel>@7", "g@5", "f@2"]);
    expect(e.render()).toContain("Traceback (most recent call last):");
    expect(e.render()).toContain("t.star:2:14: floored division by zero");
  });

  test("syntax errors are StarlarkSyntaxError", () => {
    expect(() => exec("s.star", "x = \n")).toThrow(StarlarkSyntaxError);
  });

  test("a step limit stops runaway loops", () => {
    const src = "def spin():\n    while True:\n        pass\nspin()\n";
    expect(() => exec("loop.star", src, { options: { while: true }, maxSteps: 10000 })).toThrow("too many steps");
  });

  test("recursion needs the option; it goes 100,000 calls deep and more; a runaway one is a Starlark error", () => {
    const src = "def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nr = f(50)\n";
    expect(() => exec("r.star", src)).toThrow("function f called recursively");
    expect(exec("r.star", src, { options: { recursion: true } }).r).toBe(50);
    const at = (n: number) => `def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nr = f(${n})\n`;
    expect(exec("r.star", at(5000), { options: { recursion: true } }).r).toBe(5000);
    expect(exec("r.star", at(100000), { options: { recursion: true } }).r).toBe(100000);
    const runaway = "def f(n):\n    return f(n + 1) + 1\nf(0)\n";
    let err: unknown;
    try {
      exec("r.star", runaway, { options: { recursion: true } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StarlarkEvalError);
    const shown = (err as StarlarkEvalError).render();
    expect(shown).toContain("r.star:2:13: Starlark stack overflow");
    expect(shown).toContain("[the frame above repeated");
    // A host may bound the depth well before that.
    expect(() => exec("r.star", at(200), { options: { recursion: true }, maxDepth: 100 })).toThrow("Starlark stack overflow");
    expect(exec("r.star", at(90), { options: { recursion: true }, maxDepth: 100 }).r).toBe(90);
  });

  test("recursion through sorted's and max's key= goes as deep as a plain recursion; a runaway one is a Starlark error", () => {
    const via = (call: string, n: number) => `def f(n):\n    return 0 if n == 0 else 1 + ${call}\nr = f(${n})\n`;
    expect(exec("r.star", via("max([n - 1], key = f)", 100000), { options: { recursion: true } }).r).toBe(100000);
    expect(exec("r.star", via("sorted([n - 1], key = f)[0]", 100000), { options: { recursion: true } }).r).toBe(100000);
    // Runaways with a different amount of work per level, so the limit falls at a different point of the cycle.
    for (let pad = 0; pad < 4; pad++) {
      const args = Array.from({ length: pad }, (_, i) => `a${i} = ${i}`).join(", ");
      const src = `def g(n${args ? ", " + args : ""}):\n    return sorted([n + 1], key = g)\ng(0)\n`;
      expect(() => exec("r.star", src, { options: { recursion: true }, maxDepth: 20000 + pad })).toThrow(
        new StarlarkEvalError("Starlark stack overflow", { file: "r.star", line: 1, col: 1 }, []).message,
      );
    }
  });

  test("a host builtin that calls back on the JS stack runs out as a Starlark error, wherever the JS stack ends", () => {
    // Host builtins call Starlark through thread.call, which uses the JS stack, unlike the library's key= builtins.
    const apply = new Builtin("apply", (thread, args) => thread.call(args[0]!, [args[1]!], []));
    for (let pad = 0; pad < 6; pad++) {
      const args = Array.from({ length: pad }, (_, i) => `a${i} = ${i}`).join(", ");
      const src = `def g(n${args ? ", " + args : ""}):\n    return apply(g, n + 1)\ng(0)\n`;
      let err: unknown;
      try {
        exec("r.star", src, { options: { recursion: true }, predeclared: { apply } });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StarlarkEvalError);
      expect((err as StarlarkEvalError).message).toBe("Starlark stack overflow");
    }
  });
});

describe("conversions", () => {
  test("toJS and fromJS round-trip plain data", () => {
    const data = { a: 1, b: [true, null, "x"], c: { d: 1.5 }, big: 2n ** 70n };
    const v = fromJS(data);
    expect(typeName(v)).toBe("dict");
    expect(toJS(v)).toEqual(data);
    expect(str(fromJS([1, "a"]))).toBe('[1, "a"]');
    expect(typeName(fromJS(2.0))).toBe("int");
    expect(typeName(fromJS(2.5))).toBe("float");
  });

  test("structs and modules expose attributes", () => {
    const m = new Module("lib", { v: 3 as Value });
    const g = exec("m.star", "x = lib.v + s.a\nr = str(lib)\n", { predeclared: { lib: m, s: new Struct({ a: 1 }) } });
    expect(g.x).toBe(4);
    expect(g.r).toBe('<module "lib">');
  });
});

describe("host values", () => {
  const counter = (limit: number): HostIterable => ({
    type: "counter",
    truth: () => true,
    freeze: () => {},
    *iterate() {
      for (let i = 0; i < limit; i++) yield i;
    },
  });

  test("an endless host iterable is walked lazily by a for loop; list() of a finite one takes every element", () => {
    const g = exec("t.star", "def first(n, it):\n  out = []\n  for x in it:\n    if len(out) == n:\n      break\n    out.append(x)\n  return out\na = first(3, endless)\nb = list(few)\nc = [x * 2 for x in few]\n", {
      predeclared: { endless: counter(Number.POSITIVE_INFINITY), few: counter(3) },
    });
    expect(toJS(g.a!)).toEqual([0, 1, 2]);
    expect(toJS(g.b!)).toEqual([0, 1, 2]);
    expect(toJS(g.c!)).toEqual([0, 2, 4]);
  });

  test("a host binary operator is asked when no built-in one applies, on either side", () => {
    const money = { type: "money", truth: () => true, freeze: () => {}, binary: (op: string, other: Value) => (op === "*" && typeof other === "number" ? other * 100 : undefined) };
    const g = exec("t.star", "a = m * 3\nb = 3 * m\n", { predeclared: { m: money } });
    expect([g.a, g.b]).toEqual([300, 300]);
    expect(() => exec("t.star", 'c = m + "x"\n', { predeclared: { m: money } })).toThrow("unknown binary op: money + string");
  });

  test("a host's NoSuchAttrError gets the spelling hint; tryCall returns a builtin's error and carries on", () => {
    const fields = new Map<string, Value>([["color", "red"]]);
    const obj = {
      type: "thing",
      truth: () => true,
      freeze: () => {},
      attr: (n: string) => fields.get(n),
      attrNames: () => [...fields.keys()],
      setField: (n: string) => {
        throw new NoSuchAttrError(`no .${n} field`);
      },
    };
    const probe = new Builtin("probe", (t, args) => {
      const r = t.tryCall(args[0]!, [], []);
      return "error" in r ? r.error : None;
    });
    const g = exec("t.star", "def set():\n  obj.colour = 1\nmsg = probe(set)\nok = probe(lambda: 1)\n", { predeclared: { obj, probe } });
    expect(g.msg).toBe("no .colour field (did you mean .color?)");
    expect(g.ok).toBe(None);
  });
});
