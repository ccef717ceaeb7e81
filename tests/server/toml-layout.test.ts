/** The positions config errors name: keys and tables found through strings, arrays and inline tables over lines. */
import { describe, expect, test } from "bun:test";
import { firstBadLine, siteOf, tomlLayout } from "../../src/server/toml-layout.ts";

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

describe("tomlLayout", () => {
  const layout = tomlLayout(TEXT);
  const at = (...path: string[]) => siteOf(layout, path);

  test("finds keys and tables past strings, comments, multi-line arrays and strings", () => {
    expect(Bun.TOML.parse(TEXT)).toBeDefined();
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

  test("statements span their lines; the first bad one is found", () => {
    expect(layout.statements.find((s) => s.start === 8)).toEqual({ start: 8, end: 11 });
    const bad = `${TEXT}x = [1,\n2\ny = 3\n`;
    expect(() => Bun.TOML.parse(bad)).toThrow();
    // The unclosed list that starts on line 21 is where it goes wrong.
    expect(firstBadLine(bad, tomlLayout(bad))).toBe(21);
  });
});
