/** The positions config errors name: keys and tables found past strings, arrays and inline tables over lines; where invalid TOML goes wrong. */
import { describe, expect, test } from "bun:test";
import { readToml, siteOf, TomlSyntaxError } from "../../src/server/toml.ts";

const TEXT = `# [not] = a table
top = "a # b = c"
[a]
list = [
  "x]", # ]
  'y',
]
multi = """
k = 1
[nope]
"""
inline = { p = 1, q.r = { s = "}" } }
"quoted.key" = 1
dotted . key = 2
[[arr]]
v = 1
[[arr]]
v = 2
[plugin."store.in"]
db = "x"
`;

describe("readToml", () => {
  const layout = readToml(TEXT);
  const at = (...path: string[]) => siteOf(layout, path);

  test("finds keys and tables past strings, comments, multi-line arrays and strings", () => {
    expect(layout.value).toEqual(Bun.TOML.parse(TEXT) as Record<string, unknown>);
    expect(at("top")).toEqual({ line: 2, col: 1 });
    expect(at("a")).toEqual({ line: 3, col: 1 });
    expect(at("a", "list")).toEqual({ line: 4, col: 1 });
    expect(at("a", "multi")).toEqual({ line: 8, col: 1 });
    expect(layout.sites.has(JSON.stringify(["nope"]))).toBe(false);
    expect(at("a", "inline", "q", "r", "s")).toEqual({ line: 12, col: 27 });
    expect(at("a", "quoted.key")).toEqual({ line: 13, col: 1 });
    expect(at("a", "dotted", "key")).toEqual({ line: 14, col: 1 });
    expect(at("arr", "1", "v")).toEqual({ line: 18, col: 1 });
    expect(at("plugin", "store.in", "db")).toEqual({ line: 20, col: 1 });
    // A path not written as such falls back to the nearest written one.
    expect(at("a", "list", "1")).toEqual({ line: 4, col: 1 });
  });

  test("invalid TOML is refused with the line and column where it goes wrong", () => {
    const bad = `${TEXT}x = [1,\n2\ny = 3\n`;
    expect(() => Bun.TOML.parse(bad)).toThrow();
    let error: unknown;
    try {
      readToml(bad);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TomlSyntaxError);
    // The list opened on line 21 meets "y = 3" on line 23.
    expect((error as TomlSyntaxError).line).toBe(23);
    expect(() => readToml(`a = 1\na = 2\n`)).toThrow(/^2:1: /);
  });
});
