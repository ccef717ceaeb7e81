/**
 * Programs whose static outcome is starlark-go's exactly: "ok", or its first error as `line:col: message`. The
 * expected values were printed by starlark-go (scripts/starlark-ref -parse, every dialect option on, json and struct
 * predeclared); each case is one that differential fuzzing (scripts/frontend-diff.ts) found different once, or a
 * neighbour of one. Errors come in starlark-go's order: the first here is the first it reports.
 */
import { describe, expect, test } from "bun:test";
import { parseAndResolve, UNIVERSE_NAMES } from "../../src/starlark/resolve/index.ts";
import { StarlarkSyntaxError } from "../../src/starlark/syntax/errors.ts";

const OPTIONS = { set: true, while: true, recursion: true, globalReassign: true, topLevelControl: true };
const PREDECLARED = new Set(["json", "struct"]);
const NAMES = { isPredeclared: (n: string) => PREDECLARED.has(n), isUniversal: (n: string) => UNIVERSE_NAMES.has(n) };

function outcome(src: string): string {
  try {
    parseAndResolve("t.star", src, OPTIONS, NAMES);
    return "ok";
  } catch (e) {
    if (!(e instanceof StarlarkSyntaxError)) throw e;
    const d = e.diagnostics[0]!;
    return `${d.pos.line}:${d.pos.col}: ${d.message}`;
  }
}

const CASES: [string, string][] = [
  ["x = '\\xé'", "1:5: invalid escape sequence \\xé"], // escapes are measured in UTF-8 bytes
  ["x = a ! b", "1:7: unexpected input character '!'"],
  ["x = 1 +\u00a0 2", "1:8: unexpected input character '\\u00a0'"],
  ["x = 1 + \u2028 2", "1:9: unexpected input character '\\u2028'"],
  ["async = 1\nawait = async + 1\n", "ok"],
  ["def f(**kw): pass\nf(x=1, x=2)\n", "2:8: keyword argument x repeated"],
  ["a = b\nc = d\ndef f():\n  return e\n", "1:5: undefined: b"],
  ["def f(*, *more):\n  pass\n", "1:10: multiple * parameters not allowed"],
  ["1 = x", "1:5: undefined: x"],
  ["x = 1 if 2 else 3 if 4 '''unterminated else 5", "1:24: unexpected EOF in string"],
  ["_ = a if b '\\q'", "1:12: invalid escape sequence \\q"],
  ["x = 1 if 2 .5else 3", "1:15: invalid float literal"],
  ["load(\"\", ) )", "1:12: unexpected ')'"],
  ["_ = a in b not in c", "1:18: in does not associate with not in (use parens)"],
  ["_ = a == b not in c", "1:18: == does not associate with not in (use parens)"],
  ["_ = 0 <= i < 0xn", "1:13: <= does not associate with < (use parens)"],
  ["_ = 1 == not 0x", "1:13: got not, want primary expression"],
  ["fail(1, 23 ,", "1:13: got end of file, want primary expression"],
  ["f(1,", "1:5: got end of file, want primary expression"],
  ["f(a, ]", "1:7: got ']', want primary expression"],
  ["f(lambda)", "1:10: got ')', want ':'"],
  ["f(lambda x, )", "1:14: got ')', want ':'"],
  ["x = lambda x, :1", "1:16: not an identifier"],
  ["def f(a, :\n  pass\n", "1:11: not an identifier"],
  ["def f(a, b = 1, **kw, c = 2):\n  pass\n", "1:25: optional parameter may not follow **kw"],
  ["def f(a, b = 1, b = 2):\n  pass\n", "1:19: duplicate parameter: b"],
  ["def f(a, *a):\n  pass\n", "1:11: duplicate parameter: a"],
  ["def f(**kw, *a):\n  pass\n", "1:13: * parameter may not follow **kw"],
  ["def f(**kw, a):\n  pass\n", "1:13: required parameter may not follow **kw"],
  ["x = lambda a, a = 1: a", "1:17: duplicate parameter: a"],
  ["make = 1\nprint(世界make)\n", "2:7: undefined: 世界make"],
  ["make = 1\nprint(mkae)\n", "2:7: undefined: mkae"],
  ["straße = 1\nprint(strase)\n", "2:7: undefined: strase (did you mean straße?)"],
  ["f(x, *a, y=1)", "1:1: undefined: f"],
  ["f(**k, y=1)", "1:1: undefined: f"],
  ["f(**k, *a)", "1:1: undefined: f"],
  ["f(*a, 1)", "1:1: undefined: f"],
  ["f(y=1, 2)", "1:1: undefined: f"],
  ["f(*a, *b)", "1:1: undefined: f"],
  ["f(**a, **b)", "1:1: undefined: f"],
  ["x = 1\nfor x in []:\n  pass\n", "ok"],
  ["def f():\n  for x in []:\n    pass\n  break\n", "4:3: break not in a loop"],
  ["break\ncontinue\n", "1:1: break not in a loop"],
  ["def f():\n  load(\"m.star\", \"a\")\n", "2:3: load statement within a function"],
  ["load(\"m.star\", \"_a\")", "1:17: load: names with leading underscores are not exported: _a"],
  ["x = [y for y in y]", "1:17: undefined: y"],
  ["def f():\n  x += 1\n  return x\n", "ok"],
  ["x += 1", "ok"],
  ["(a, b) += 1", "1:2: can't use tuple expression in augmented assignment"],
  ["[a] += 1", "1:1: can't use list expression in augmented assignment"],
  ["() = 1", "ok"],
  ["[] = 1", "ok"],
  ["f() = 1", "1:1: can't assign to callexpr"],
  ["x.y += 1", "1:1: undefined: x"],
  ["-x = 1", "1:1: can't assign to unaryexpr"],
  ["x if y else z = 1", "1:1: can't assign to condexpr"],
  ["lambda: 1 = 2", "1:1: can't assign to lambdaexpr"],
  ["[x for x in y] = 1", "1:1: can't assign to comprehension"],
  ["{} = 1", "1:1: can't assign to dictexpr"],
  ["\"s\" = 1", "1:1: can't assign to literal"],
  ["x = y = 1", "1:8: got '=', want newline"],
  ["for 1 in []: pass", "1:5: can't assign to literal"],
  ["return 1", "1:1: return statement not within a function"],
  ["set = 1\nprint(set)\n", "ok"],
  ["def f(x):\n  def g():\n    return x\n  return g\n", "ok"],
  ["def f():\n  print(z)\n  z = 1\n", "ok"],
  ["print(undefined_name)\nprint(len)\n", "1:7: undefined: undefined_name"],
  ["x = 0xg", "1:5: invalid hex literal"],
  ["x = 0b12", "1:9: got int literal, want newline"],
  ["x = 0o9", "1:7: invalid octal literal"],
  ["x = 09", "1:5: invalid int literal"],
  ["x = 0_1", "1:8: got identifier, want newline"],
  ["x = 1_0", "1:8: got identifier, want newline"],
  ["x = 1e", "1:7: invalid float literal"],
  ["x = 1.5e+", "1:10: invalid float literal"],
  ["x = 0777", "1:9: obsolete form of octal literal; use 0o777"],
  ["x = 07.5", "ok"],
  ["x = 1.e5x", "1:10: got identifier, want newline"],
  ["x = 'abc", "1:5: unexpected EOF in string"],
  ["x = \"\"\"abc", "1:5: unexpected EOF in string"],
  ["x = 'a\\'", "1:5: unexpected EOF in string"],
  ["x = \\ 1", "1:6: stray backslash in program"],
  ["x = 1 \\\n+ 2", "ok"],
  ["if x:\n\tpass\n        pass\n", "1:4: undefined: x"],
  ["if x:\n    pass\n  pass\n", "3:3: unindent does not match any outer indentation level"],
  ["  x = 1\n", "1:3: got indent, want primary expression"],
  ["x = (1,\n  2)\n  y = 3\n", "3:3: got indent, want primary expression"],
  ["if True: pass; pass; x = 1\n", "ok"],
  ["x = 1;; y = 2", "1:8: got ';', want primary expression"],
  ["; x = 1", "1:2: got ';', want primary expression"],
  ["def f(): return 1, ", "1:18: unparenthesized tuple with trailing comma"],
  ["x = {1: 2, 3}", "1:14: got '}', want ':'"],
  ["x = {1, 2: 3}", "1:8: got ',', want ':'"],
  ["x = [1 for]", "1:12: got ']', want primary expression"],
  ["f(x for x in y, 1)", "1:8: got for, want ','"],
  ["x = a[1:2:3:4]", "1:13: got ':', want ']'"],
  ["x = a.1", "1:8: got float literal, want newline"],
  ["while : pass", "1:8: got ':', want primary expression"],
  ["for x, in y: pass", "1:10: got in, want primary expression"],
  ["for x y in z: pass", "1:8: got identifier, want in"],
  ["if x: pass\nelse pass\n", "2:10: got pass, want ':'"],
  ["class X: pass", "1:6: got illegal token, want primary expression"],
  ["import os", "1:7: got illegal token, want primary expression"],
  ["x = a is b", "1:9: got illegal token, want newline"],
  ["yield x", "1:6: got illegal token, want primary expression"],
  ["x = ¿", "1:5: unexpected input character '¿'"],
  ["x = `a`", "1:5: unexpected input character '`'"],
  ["x = 1 ? 2 : 3", "1:7: unexpected input character '?'"],
  ["x = a -> b", "1:9: got '>', want primary expression"],
  ["x = @y", "1:5: unexpected input character '@'"],
  ["x = 123456789012345678901234567890", "ok"],
  ["x = 1e999", "1:10: invalid float literal"],
  ["x = 0x_1", "1:5: invalid hex literal"],
  ["x = 1__0", "1:9: got identifier, want newline"],
];

describe("static outcomes as starlark-go's", () => {
  test.each(CASES)("%j", (src, want) => {
    expect(outcome(src)).toBe(want);
  });
});
