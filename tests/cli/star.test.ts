/** `clace-lite star run|test|check` as a user runs them: output, exit codes, and the app dialect of app files. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "clace-lite-star-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const EXAMPLE_APP = join(import.meta.dir, "..", "..", "examples", "hello", "app.star");

describe("star run", () => {
  test("runs a file in the app dialect, with print and the json module", async () => {
    const path = file("run.star", 'load("json.star", "json")\ndef f(n):\n    while n > 0:\n        n -= 1\n    return n\nprint(json.encode({"a": f(3)}))\n');
    const result = await runCli(["star", "run", path]);
    expect(result).toMatchObject({ code: 0, stdout: '{"a":0}\n' });
  });

  test("a runtime error exits 1 with file:line:col and a backtrace", async () => {
    const path = file("boom.star", "def f():\n    return 1 // 0\nf()\n");
    const result = await runCli(["star", "run", path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("boom.star:2:");
    expect(result.stderr).toContain("division by zero");
  });
});

describe("star test", () => {
  test("counts chunks and exits 1 when one fails", async () => {
    const path = file(
      "t.star",
      'load("assert.star", "assert")\nassert.eq(1 + 1, 2)\n---\nx = 1 // 0 ### "division by zero"\n---\nload("assert.star", "assert")\nassert.eq(1, 2)\n',
    );
    const result = await runCli(["star", "test", path]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("2 passed, 1 failed");
    expect(result.stdout).toMatch(/t\.star:7: /);
  });

  test("all chunks passing exits 0", async () => {
    const path = file("ok.star", 'load("assert.star", "assert")\nassert.eq(len("abc"), 3)\n---\nload("assert.star", "assert")\nassert.fails(lambda: 1 // 0, "division")\n');
    const result = await runCli(["star", "test", path]);
    expect(result.stdout).toBe("2 passed, 0 failed\n");
    expect(result.code).toBe(0);
  });
});

describe("star check", () => {
  test("app.star is checked with the names the app server predeclares", async () => {
    const result = await runCli(["star", "check", EXAMPLE_APP]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
  });

  test("a params.star is checked with param, config and the type constants", async () => {
    const path = file("params.star", 'param("port", type=INT, default=8080)\nparam("pw", type=STRING, display_type=PASSWORD, default="")\n');
    expect(await runCli(["star", "check", path])).toMatchObject({ code: 0, stderr: "" });
  });

  test("a plain file does not see the app's names unless --kind app says so", async () => {
    const path = file("plain.star", "x = ace.app\n");
    const plain = await runCli(["star", "check", path]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain("plain.star:1:5: undefined: ace");
    expect((await runCli(["star", "check", "--kind", "app", path])).code).toBe(0);
    const bad = await runCli(["star", "check", "--kind", "nope", path]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--kind is one of app, params, plain");
  });

  test("an unclosed bracket is shown where it opens, beside the error where the parser gave up", async () => {
    const path = file("unclosed.star", "x = foo(1,\n  2\nw = 3\n");
    const result = await runCli(["star", "check", path]);
    expect(result.code).toBe(1);
    // starlark-go reports it after the unexpected name, where its scanner stands (3:2).
    expect(result.stderr).toContain("unclosed.star:3:2: got identifier, want ','");
    expect(result.stderr).toContain("unclosed.star:1:8: note: this '(' is never closed\n    x = foo(1,\n           ^");
  });

  test("misspelt builtins are suggested; a module name says how to load it", async () => {
    const path = file("typos.star", 'x = lenn([1])\ny = json.encode(1)\n');
    const result = await runCli(["star", "check", path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("typos.star:1:5: undefined: lenn (did you mean len?)");
    expect(result.stderr).toContain('typos.star:2:5: undefined: json (add load("json.star", "json"))');
  });
});
