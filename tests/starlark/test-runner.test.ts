/** The `star test` runner itself: how chunks are cut and how assert.eq compares floats. */
import { describe, expect, test } from "bun:test";
import { runTestSource } from "../../src/starlark/index.ts";

function failures(source: string): string[] {
  return runTestSource("t.star", source).chunks.flatMap((c) => c.failures.map((f) => `${f.line}: ${f.message}`));
}

describe("star test chunks", () => {
  test("an error at the end of a chunk's text is reported on that chunk's last line, not past later chunks", () => {
    // The unclosed bracket runs into the end of the chunk: the parser reports it where the chunk's text ends.
    const src = ["x = [1,", "---", "y = 1", "", "", "z = 2"].join("\n");
    const r = runTestSource("t.star", src);
    expect(r.chunks.map((c) => c.failures.map((f) => f.line))).toEqual([[1], []]);
  });

  test("an expected end-of-chunk error matches on its own line", () => {
    const src = ['x = (1 ### "got end of file"', "---", "", "", "y = 2"].join("\n");
    expect(failures(src)).toEqual([]);
  });

  test("line numbers of a later chunk are those of the file", () => {
    const src = ["a = 1", "---", "b = 1", "c = 1 // 0  ### \"division by zero\""].join("\n");
    expect(failures(src)).toEqual([]);
  });
});

describe("assert.eq on floats (starlark-go's assert.star tolerance)", () => {
  const head = 'load("assert.star", "assert")\n';

  test("values one ulp apart are equal, int against float too", () => {
    expect(failures(head + "assert.eq(0.1 + 0.2, 0.30000000000000004)\nassert.eq(1.0, 1)\nassert.eq(0.30000000000000004, 0.3)\n")).toEqual([]);
  });

  test("values two or more ulps apart fail with the floats message", () => {
    expect(failures(head + "assert.eq(0.3, 0.30000000000000010)\n")).toEqual(["2: floats: 0.3 != 0.3000000000000001 (delta > 1 ulp)"]);
  });

  test("non-float values still compare exactly", () => {
    expect(failures(head + 'assert.eq(1, 2)\nassert.eq("a", "b")\n')).toEqual(['2: 1 != 2', '3: "a" != "b"']);
  });
});
