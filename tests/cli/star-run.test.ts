/** `clace-lite star run`: output and exit status as a user sees them through pipes. */
import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CLI = join(import.meta.dir, "..", "..", "src", "cli", "main.ts");

async function starRun(source: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), "star-run-"));
  const file = join(dir, "main.star");
  writeFileSync(file, source);
  const proc = Bun.spawn(["bun", CLI, "star", "run", file], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

test("a long error reaches a slowly read stderr pipe in full before the process exits", async () => {
  const dir = mkdtempSync(join(tmpdir(), "star-run-"));
  const file = join(dir, "main.star");
  writeFileSync(file, 'fail("x" * 200000 + "END")\n');
  // The reader starts late, so the pipe (64 KiB) is full when the program finishes writing.
  const script = `bun "${CLI}" star run "${file}" 2>&1 >/dev/null | (sleep 1; wc -c)`;
  const proc = Bun.spawn(["sh", "-c", script], { stdout: "pipe" });
  const count = Number((await new Response(proc.stdout).text()).trim());
  expect(await proc.exited).toBe(0);
  expect(count).toBeGreaterThan(200000);
  const r = await starRun('fail("x" * 200000 + "END")\n');
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("x".repeat(200000) + "END");
});

test("print(1) prints 1 and exits 0", async () => {
  const r = await starRun("print(1)\n");
  expect(r).toEqual({ code: 0, stdout: "1\n", stderr: "" });
});

test("json and math are predeclared, as in starlark-go's starlark command, and loadable by name", async () => {
  const r = await starRun('print(json.encode({"a": [1, 2.5]}), math.floor(2.7))\nload("json.star", j = "json")\nprint(j.decode("[1]"))\n');
  expect(r).toEqual({ code: 0, stdout: '{"a":[1,2.5]} 2\n[1]\n', stderr: "" });
});

test("star run runs the app dialect: recursion (also through key=), while and sets; if/for only in functions", async () => {
  const src = [
    "def count(n):",
    "    if n == 0:",
    "        return 0",
    "    return 1 + min([n - 1], key = count)",
    "def main():",
    "    n = 0",
    "    while n < 5:",
    "        n += 1",
    "    print(n, count(100000), sorted(set([3, 1, 3])))",
    "main()",
  ].join("\n");
  expect(await starRun(src + "\n")).toEqual({ code: 0, stdout: "5 100000 [1, 3]\n", stderr: "" });
  const topLevel = await starRun("for i in range(3):\n    print(i)\n");
  expect(topLevel.code).toBe(1);
  expect(topLevel.stderr).toContain("main.star:1:1: for loop not within a function");
});
