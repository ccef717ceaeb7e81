import { describe, expect, test } from "bun:test";
import { checkParamDecl, parseKeyValues, parseParamValue, resolveParams, type ParamDecl } from "../../src/runtime/params.ts";
import { RuntimeError } from "../../src/runtime/errors.ts";

function decl(over: Partial<ParamDecl>): ParamDecl {
  return { name: "p", type: "STRING", default: undefined, description: "", required: true, displayType: "", ...over };
}

function errorOf(f: () => unknown): RuntimeError {
  try {
    f();
  } catch (e) {
    if (e instanceof RuntimeError) return e;
    throw e;
  }
  throw new Error("expected an error");
}

describe("param values from --param strings", () => {
  test("INT parses like Go's Atoi", () => {
    expect(parseParamValue("port", "INT", "8080")).toBe(8080);
    expect(parseParamValue("port", "INT", "-3")).toBe(-3);
    expect(parseParamValue("port", "INT", "+7")).toBe(7);
    for (const bad of ["8080.0", "", " 1", "0x10", "abc", "1e3"]) {
      expect(() => parseParamValue("port", "INT", bad)).toThrow(RuntimeError);
    }
  });

  test("a bad value names the param, the type and the value", () => {
    const e = errorOf(() => parseParamValue("port", "INT", "abc"));
    expect(e.message).toBe('param port: invalid value "abc" for param port of type INT: expected an integer');
    expect(e.kind).toBe("param");
    expect(e.fix).toContain("--param port=");
  });

  test("BOOLEAN accepts exactly Go's ParseBool forms", () => {
    for (const t of ["1", "t", "T", "TRUE", "true", "True"]) expect(parseParamValue("b", "BOOLEAN", t)).toBe(true);
    for (const f of ["0", "f", "F", "FALSE", "false", "False"]) expect(parseParamValue("b", "BOOLEAN", f)).toBe(false);
    for (const bad of ["yes", "tRUE", "", "2"]) expect(() => parseParamValue("b", "BOOLEAN", bad)).toThrow("of type BOOLEAN");
  });

  test("DICT and LIST are JSON of the right shape", () => {
    expect(parseParamValue("d", "DICT", '{"a": 1}')).toEqual({ a: 1 });
    expect(parseParamValue("l", "LIST", '["a", 2]')).toEqual(["a", 2]);
    expect(() => parseParamValue("d", "DICT", "[1]")).toThrow('invalid value "[1]" for param d of type DICT: expected a JSON object');
    expect(() => parseParamValue("l", "LIST", "{}")).toThrow("expected a JSON array");
    expect(() => parseParamValue("l", "LIST", "[1,")).toThrow("expected a JSON array");
  });

  test("STRING is taken as is", () => {
    expect(parseParamValue("s", "STRING", " x=y ")).toBe(" x=y ");
  });
});

describe("param declarations", () => {
  test("duplicate names, whitespace in names, mismatched defaults and display types are refused", () => {
    const existing = new Map([["a", decl({ name: "a" })]]);
    expect(() => checkParamDecl(decl({ name: "a" }), existing)).toThrow("param a is declared more than once");
    expect(() => checkParamDecl(decl({ name: "a b" }), new Map())).toThrow("must be non-empty and have no whitespace");
    expect(() => checkParamDecl(decl({ type: "INT", default: "x" }), new Map())).toThrow('default "x" does not match its type INT');
    expect(() => checkParamDecl(decl({ type: "INT", displayType: "PASSWORD" }), new Map())).toThrow(
      "display_type is allowed only for STRING params",
    );
    expect(() => checkParamDecl(decl({ displayType: "FANCY" }), new Map())).toThrow("unknown display_type");
    expect(checkParamDecl(decl({ displayType: "TEXTAREA:rows=3" }), new Map()).displayType).toBe("TEXTAREA:rows=3");
  });
});

describe("resolving params", () => {
  test("a required param without a value fails with Clace's message", () => {
    const e = errorOf(() => resolveParams([decl({ name: "image" })], {}));
    expect(e.message).toBe("param image is a required param, a value has to be provided");
    expect(e.fix).toBe("pass it with --param image=<value>");
  });

  test("a required STRING set to the empty string also fails", () => {
    expect(() => resolveParams([decl({ name: "image" })], { image: "" })).toThrow("param image is a required param");
  });

  test("defaults, values parsed by type, zero values and undeclared params", () => {
    const out = resolveParams(
      [
        decl({ name: "port", type: "INT", default: 5000 }),
        decl({ name: "debug", type: "BOOLEAN", required: false }),
        decl({ name: "tags", type: "LIST", required: false }),
        decl({ name: "opts", type: "DICT", required: false }),
        decl({ name: "title", required: false }),
      ],
      { port: "8000", EXTRA: "1" },
    );
    expect(out.map((p) => [p.name, p.value, p.declared])).toEqual([
      ["port", 8000, true],
      ["debug", false, true],
      ["tags", [], true],
      ["opts", {}, true],
      ["title", "", true],
      ["EXTRA", "1", false],
    ]);
  });

  test("--param k=v pairs split at the first =", () => {
    expect(parseKeyValues("--param", ["a=b=c", "x="])).toEqual({ a: "b=c", x: "" });
    expect(() => parseKeyValues("--param", ["nokey"])).toThrow('--param "nokey" is not of the form key=value');
    expect(() => parseKeyValues("--param", ["=v"])).toThrow("is not of the form key=value");
  });
});
