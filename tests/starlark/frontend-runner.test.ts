/**
 * The front end's diagnostics files (tests/starlark/syntax/*.star) also pass through the `star test` runner, which
 * parses, resolves and runs each chunk: the static errors they expect are the ones the whole interpreter reports.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runTestSource } from "../../src/starlark/index.ts";

const dir = join(import.meta.dir, "syntax");
const files = readdirSync(dir).filter((f) => f.endsWith(".star")).sort();

describe("diagnostics files through the star test runner", () => {
  for (const f of files) {
    test(`${f}: every chunk passes`, () => {
      const r = runTestSource(f, readFileSync(join(dir, f), "utf8"));
      const failures = r.chunks.flatMap((c) => c.failures.map((x) => `${f}:${x.line}: ${x.message}`));
      expect(failures).toEqual([]);
      expect(r.failed).toBe(0);
      expect(r.passed).toBeGreaterThan(3);
    });
  }
});
