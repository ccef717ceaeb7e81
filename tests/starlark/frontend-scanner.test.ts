/** Scanner: tokens, literal values, layout tokens (NEWLINE/INDENT/OUTDENT) and their positions. */
import { describe, expect, test } from "bun:test";
import { scan } from "../../src/starlark/syntax/scanner.ts";
import { tokenName } from "../../src/starlark/syntax/tokens.ts";

/** "name@line:col" for each token, with literal values. */
function toks(src: string): string[] {
  const r = scan(src);
  return r.tokens.map((t) => {
    const v = t.value === null ? "" : `=${typeof t.value === "bigint" ? `${t.value}n` : JSON.stringify(t.value)}`;
    return `${tokenName(t.tokenType)}@${t.pos.line}:${t.pos.col}${v}`;
  });
}
function values(src: string): unknown[] {
  return scan(src).tokens.filter((t) => t.value !== null).map((t) => t.value);
}

describe("scanner", () => {
  test("punctuation, keywords and identifiers (Unicode letters too)", () => {
    const names = scan("a //= b ** c != d <<= e >>= f and not in lambda größe _x1\n").tokens.map((t) => tokenName(t.tokenType));
    expect(names).toEqual([
      "identifier", "'//='", "identifier", "'**'", "identifier", "'!='", "identifier", "'<<='", "identifier", "'>>='",
      "identifier", "and", "not", "in", "lambda", "identifier", "identifier", "newline", "end of file",
    ]);
  });

  test("reserved words scan as illegal tokens, but assert is an identifier", () => {
    expect(scan("class assert\n").tokens.map((t) => tokenName(t.tokenType)).slice(0, 2)).toEqual(["illegal token", "identifier"]);
  });

  test("int literals of every base, arbitrary size; floats with exponents", () => {
    expect(values("0 123 0x7f 0X7F 0o755 0O17 0b1011 9007199254740991 9007199254740993 0xffffffffffffffffff\n")).toEqual([
      0, 123, 127, 127, 493, 15, 11, 9007199254740991, 9007199254740993n, 0xffffffffffffffffffn,
    ]);
    expect(values("0.0 0. .5 1e10 1e+10 1e-10 1.1e10 1.5E-3\n")).toEqual([0, 0, 0.5, 1e10, 1e10, 1e-10, 1.1e10, 1.5e-3]);
  });

  test("string escapes, raw strings, triple quotes, bytes", () => {
    expect(values(`"a\\tb\\n" 'it\\'s' "\\a\\b\\f\\v\\r\\\\" r"a\\nb" """x\n"y"\n""" '\\101\\x41\\u4e16\\U0001F600'\n`)).toEqual([
      "a\tb\n", "it's", "\x07\b\f\v\r\\", "a\\nb", 'x\n"y"\n', "AA世😀",
    ]);
    // An escaped newline is dropped in an ordinary string, kept in a raw one.
    expect(values('"ab\\\ncd" r"ab\\\ncd"\n')).toEqual(["abcd", "ab\\\ncd"]);
  });

  test("a string's \\x and octal escapes are ASCII only, as in starlark-go; a bytes literal takes any byte", () => {
    expect(values(`"\\x41\\101\\x7f" "\\u4e16" b"\\xff\\x00\\377" b"世" rb"\\x"\n`)).toEqual([
      "AA\x7f", "世", "\xff\x00\xff", "\xe4\xb8\x96", "\\x",
    ]);
    expect(scan(`"\\xff"\n`).error).toEqual({ pos: { line: 1, col: 1 }, message: "non-ASCII hex escape \\xff (use \\u00FF for the UTF-8 encoding of U+00FF)" });
    expect(scan(`x = '\\377'\n`).error?.message).toBe("non-ASCII octal escape \\377 (use \\u00FF for the UTF-8 encoding of U+00FF)");
  });

  test("NEWLINE, INDENT and OUTDENT carry real positions; blank and comment lines are ignored", () => {
    expect(toks("if x:\n\n    # comment\n    y\nz\n")).toEqual([
      "if@1:1", "identifier@1:4", "':'@1:5", "newline@1:6", "indent@4:5", "identifier@4:5", "newline@4:6",
      "outdent@5:1", "identifier@5:1", "newline@5:2", "end of file@6:1",
    ]);
  });

  test("at end of file without a final newline: NEWLINE then the pending OUTDENTs", () => {
    expect(toks("def f():\n  return")).toEqual([
      "def@1:1", "identifier@1:5", "'('@1:6", "')'@1:7", "':'@1:8", "newline@1:9", "indent@2:3", "return@2:3",
      "newline@2:9", "outdent@2:9", "end of file@2:9",
    ]);
    // Without indentation, no NEWLINE is made up at EOF (as in starlark-go).
    expect(toks("x")).toEqual(["identifier@1:1", "end of file@1:2"]);
  });

  test("tab stops of 8: a tab and eight spaces are the same indentation", () => {
    const r = scan("if x:\n\ty\n        z\n");
    expect(r.error).toBeNull();
    expect(r.tokens.filter((t) => tokenName(t.tokenType) === "indent").length).toBe(1);
  });

  test("newlines and indentation are ignored inside brackets; backslash joins lines", () => {
    expect(toks("f(1,\n      2)\\\n  + 3\n").map((s) => s.split("@")[0])).toEqual([
      "identifier", "'('", "int literal", "','", "int literal", "')'", "'+'", "int literal", "newline", "end of file",
    ]);
  });

  test("the first error stops scanning and is returned with a position", () => {
    const r = scan("x = 1\nif x:\n    y\n  z\n");
    expect(r.error).toEqual({ pos: { line: 4, col: 3 }, message: "unindent does not match any outer indentation level" });
    expect(tokenName(r.tokens[r.tokens.length - 1]!.tokenType)).toBe("illegal token");
    expect(scan("'abc").error?.message).toBe("unexpected EOF in string");
    expect(scan('"""abc\n').error?.message).toBe("unexpected EOF in string");
    expect(scan("x = 09\n").error?.message).toBe("invalid int literal");
  });

  test("CRLF line endings count as newlines", () => {
    expect(toks("x = 1\r\ny = 2\r\n").map((s) => s.split("=")[0])).toEqual(toks("x = 1\ny = 2\n").map((s) => s.split("=")[0]));
  });
});
