/**
 * Starlark interpreter benchmarks, side by side with CPython on the same source (each program is valid in both
 * languages). Each side runs every program BENCH_RUNS times (default 5, at least 3), alternating, and the table
 * shows the best wall time of each (parse and compile included on our side; CPython's timer starts after its
 * compile) and the ratio ours/CPython. The best of several runs is what a shared, noisy machine can measure.
 * Before each of our runs the heap is collected, as each CPython run starts in a new process.
 * Run: `bun bench/starlark/run.ts` (BENCH_ONLY=text runs the programs whose name contains text).
 */
import { spawnSync } from "node:child_process";
import { exec, APP_DIALECT } from "../../src/starlark/index.ts";

const programs: Record<string, string> = {
  "fib(27) recursive": `
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)

def main():
    return fib(27)

result = main()
`,
  "3M-iteration += loop": `
def main():
    total = 0
    for i in range(3000000):
        total += i
    return total

result = main()
`,
  "list append + filtered comprehension": `
def main():
    xs = []
    for i in range(1000000):
        xs.append(i)
    ys = [x * 2 for x in xs if x % 3 == 0]
    return len(ys)

result = main()
`,
  "str() + join": `
def main():
    parts = []
    for i in range(500000):
        parts.append(str(i))
    s = ",".join(parts)
    return len(s)

result = main()
`,
  'dict insert/iterate with "k%d" % i': `
def main():
    d = {}
    for i in range(500000):
        d["k%d" % i] = i
    total = 0
    for k in d:
        total += d[k]
    return total

result = main()
`,
  "3M calls of a 2-arg function": `
def add(a, b):
    return a + b

def main():
    total = 0
    for i in range(3000000):
        total = add(total, i)
    return total

result = main()
`,
  "sorted() of 200k ints": `
def main():
    xs = [(i * 7919) % 200003 for i in range(200000)]
    ys = sorted(xs)
    return ys[0] + ys[-1]

result = main()
`,
  "300k sieve": `
def main():
    n = 300000
    flags = [True] * (n + 1)
    flags[0] = False
    flags[1] = False
    for i in range(2, 548):
        if flags[i]:
            for j in range(i * i, n + 1, i):
                flags[j] = False
    count = 0
    for f in flags:
        if f:
            count += 1
    return count

result = main()
`,
  "string-keyed dict building": `
def main():
    d = {}
    for i in range(200000):
        d["key" + str(i)] = i
    for i in range(0, 200000, 2):
        d["key" + str(i)] += 1
    return len(d)

result = main()
`,
  "big-int arithmetic": `
def main():
    a = 1
    b = 1
    for i in range(20000):
        a, b = b, a + b
    x = 1
    for i in range(20000):
        x = x * 3 + i
    y = 1
    for i in range(1, 3000):
        y = y * i
    return (a % 1000003) + (x % 1000003) + (y // (a % 1000 + 1)) % 97

result = main()
`,
};

function timeOurs(src: string): number {
  // Each CPython run starts in a fresh process; ours starts without the previous runs' garbage to collect.
  Bun.gc(true);
  const t0 = performance.now();
  exec("bench.star", src, { options: APP_DIALECT });
  return performance.now() - t0;
}

function timePython(src: string): number | undefined {
  const wrapped = `import time\n_t0 = time.perf_counter()\n${src}\nprint((time.perf_counter() - _t0) * 1000)\n`;
  const r = spawnSync("python3", ["-c", wrapped], { encoding: "utf8" });
  if (r.status !== 0) return undefined;
  return parseFloat(r.stdout.trim().split("\n").pop()!);
}

const runs = Math.max(3, Number(process.env.BENCH_RUNS ?? 5) || 5);
const rows: string[][] = [["benchmark", `clace-lite (ms, best of ${runs})`, `python3 (ms, best of ${runs})`, "ratio"]];
const only = process.env.BENCH_ONLY;
for (const [name, src] of Object.entries(programs)) {
  if (only !== undefined && !name.includes(only)) continue;
  let ours = Infinity,
    py = Infinity;
  for (let i = 0; i < runs; i++) {
    ours = Math.min(ours, timeOurs(src));
    const p = timePython(src);
    if (p !== undefined) py = Math.min(py, p);
  }
  rows.push([name, ours.toFixed(0), Number.isFinite(py) ? py.toFixed(0) : "n/a", Number.isFinite(py) ? (ours / py).toFixed(2) + "x" : "n/a"]);
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const [i, r] of rows.entries()) {
  console.log("| " + r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(" | ") + " |");
  if (i === 0) console.log("|" + widths.map((w, c) => (c === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|");
}
