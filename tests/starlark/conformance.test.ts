/** Runs every tests/starlark/*.star file through the star-test runner: one bun test per chunk. */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runTestSource } from "../../src/starlark/index.ts";

const dir = import.meta.dir;
for (const name of readdirSync(dir).filter((f) => f.endsWith(".star")).sort()) {
  const source = readFileSync(join(dir, name), "utf8");
  const result = runTestSource(name, source);
  describe(name, () => {
    for (const chunk of result.chunks) {
      test(`chunk at line ${chunk.startLine}`, () => {
        expect(chunk.failures.map((f) => `${name}:${f.line}: ${f.message}`)).toEqual([]);
      });
    }
  });
}
