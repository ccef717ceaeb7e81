import { describe, expect, test } from "bun:test";
import { APP_DIALECT, exec, jsonModule, MemoryBudget, StarlarkEvalError } from "../../src/starlark/index.ts";

const MB = 1024 * 1024;

function run(src: string, opts: { memoryMb?: number; seconds?: number } = {}): StarlarkEvalError {
  const seconds = opts.seconds ?? 5;
  try {
    exec("app.star", src, {
      options: APP_DIALECT,
      predeclared: { json: jsonModule },
      budget: new MemoryBudget((opts.memoryMb ?? 64) * MB, "--eval-memory-mb"),
      deadline: { atMs: Date.now() + seconds * 1000, seconds, setting: "--eval-timeout-secs" },
    });
  } catch (err) {
    if (err instanceof StarlarkEvalError) return err;
    throw err;
  }
  throw new Error("the program ran to the end");
}

function fn(body: string): string {
  return `def main():\n${body
    .split("\n")
    .map((l) => "    " + l)
    .join("\n")}\nmain()\n`;
}

describe("memory budget", () => {
  test("a huge list repeat is refused before it is allocated, at its position", () => {
    const before = process.memoryUsage().rss;
    const err = run("x = 1\ny = [0] * 1000000000\n");
    expect(err.message).toContain("memory budget exceeded");
    expect(err.message).toContain("--eval-memory-mb");
    expect(err.pos).toMatchObject({ file: "app.star", line: 2, col: 9 });
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * MB);
  });

  test("a huge string repeat is refused", () => {
    expect(run('x = "x" * (1 << 29)\n').message).toContain("memory budget exceeded");
    // Past what starlark-go repeats at all, its own errors come first.
    expect(run('x = "x" * (1 << 40)\n').message).toBe("repeat count 1099511627776 too large");
    expect(run('x = "xyz" * (1 << 30)\n').message).toBe("excessive repeat (3 * 1073741824 elements)");
  });

  test("repeated upper() of a big string trips the budget, counting every result", () => {
    const err = run(fn('s = "a" * (8 * 1024 * 1024)\nfor i in range(200):\n    t = s.upper()'));
    expect(err.message).toContain("memory budget exceeded");
    expect(err.pos.line).toBe(4);
  });

  test("list growth by append, by +=, and dict growth in loops trip the budget", () => {
    expect(run(fn("xs = []\nfor i in range(100000000):\n    xs.append(i)"), { memoryMb: 8 }).message).toContain("memory budget exceeded");
    expect(run(fn("xs = [1]\nfor i in range(60):\n    xs += xs")).message).toContain("memory budget exceeded");
    expect(run(fn("d = {}\nfor i in range(100000000):\n    d[i] = i"), { memoryMb: 8 }).message).toContain("memory budget exceeded");
    expect(run(fn("xs = [i for i in range(100000000)]"), { memoryMb: 8 }).message).toContain("memory budget exceeded");
    expect(run(fn('s = "ab"\nfor i in range(60):\n    s = s + s')).message).toContain("memory budget exceeded");
    expect(run("x = list(range(1000000000))\n").message).toContain("memory budget exceeded");
  });

  test("join and replace are charged for their result size before building it", () => {
    expect(run(fn('parts = ["x" * 1024] * 100000\ns = "".join(parts)'), { memoryMb: 16 }).message).toContain("memory budget exceeded");
    expect(run(fn('s = "a" * 1000000\nt = s.replace("a", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")'), { memoryMb: 16 }).message).toContain(
      "memory budget exceeded",
    );
  });

  test("copies made by builtins are charged: sorted, list, tuple, reversed, enumerate, zip, json.encode, format", () => {
    // Each loop keeps making a copy of a 1M-element list: only the copies can exhaust an 8 MB budget.
    const base = "xs = [0] * 100000\nkeep = []\nfor i in range(1000):\n    keep.append(%s)";
    for (const copy of ["sorted(xs)", "list(xs)", "tuple(xs)", "reversed(xs)", "enumerate(xs)", "zip(xs, xs)"]) {
      expect(run(fn(base.replace("%s", copy)), { memoryMb: 8 }).message, copy).toContain("memory budget exceeded");
    }
    const json = fn('xs = ["abcdefgh"] * 10000\nkeep = []\nfor i in range(1000):\n    keep.append(json.encode(xs))');
    expect(run(json, { memoryMb: 8 }).message).toContain("memory budget exceeded");
    expect(run(fn('s = "x" * 100000\nkeep = []\nfor i in range(1000):\n    keep.append("{}{}".format(s, s))'), { memoryMb: 8 }).message).toContain("memory budget exceeded");
  });

  test("an ordinary config stays well inside the budget", () => {
    const globals = exec("app.star", 'names = ["a%d" % i for i in range(1000)]\nd = {n: n.upper() for n in names}\n', {
      options: APP_DIALECT,
      budget: new MemoryBudget(1 * MB, "--eval-memory-mb"),
    });
    expect(globals.d).toBeDefined();
  });
});

describe("time budget", () => {
  test("a runaway loop stops at its position after the budget, naming the setting", () => {
    const started = Date.now();
    const err = run(fn("while True:\n    pass"), { seconds: 0.5 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(err.message).toContain("time budget of 0.5 s");
    expect(err.message).toContain("--eval-timeout-secs");
    expect(err.pos).toMatchObject({ file: "app.star", line: 2 });
  });

  test("the step limit still applies with a deadline", () => {
    let err: unknown;
    try {
      exec("app.star", fn("while True:\n    pass"), {
        options: APP_DIALECT,
        maxSteps: 100_000,
        deadline: { atMs: Date.now() + 60_000, seconds: 60, setting: "x" },
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StarlarkEvalError);
    expect((err as Error).message).toContain("too many steps");
  });
});
