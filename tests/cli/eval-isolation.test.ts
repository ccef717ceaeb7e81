/**
 * Isolated evaluation end to end: while one app's app.star runs away (loops, or allocates without end), the
 * server keeps answering another app's requests at once, and the runaway load fails with a positioned error
 * naming the budget and the setting that raises it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { writeAppDir } from "../fixtures/images.ts";
import { CliProcess, runCli, tempHome } from "./helpers.ts";

let home: string;
let server: CliProcess;
let base: string;
let upstream: ReturnType<typeof Bun.serve>;
const dirs: string[] = [];
const env = () => ({ CL_HOME: home });

function proxyApp(url: string, prelude = ""): string {
  const dir = writeAppDir({
    "app.star": `load("proxy.in", "proxy")
${prelude}
app = ace.app("app", routes = [ace.proxy("/", proxy.config(${JSON.stringify(url)}))],
    permissions = [ace.permission("proxy.in", "config", [${JSON.stringify(url)}])])
`,
  });
  dirs.push(dir);
  return dir;
}

/** Latencies (ms) of sequential GETs to the warm app for as long as `busy` is pending. */
async function latenciesWhile(busy: Promise<unknown>): Promise<number[]> {
  let done = false;
  void busy.finally(() => (done = true));
  const out: number[] = [];
  while (!done) {
    const started = performance.now();
    const res = await fetch(`${base}/warm/`);
    expect(await res.text()).toBe("warm");
    out.push(performance.now() - started);
    await Bun.sleep(10);
  }
  return out;
}

function rssMb(pid: number): number {
  const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8") as string;
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

beforeAll(async () => {
  home = tempHome();
  upstream = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("warm") });
  server = new CliProcess(["server", "start", "--port", "0", "--https-port", "off", "--eval-timeout-secs", "3", "--eval-memory-mb", "128"], env());
  [, base] = (await server.waitFor(/listening on (http:\/\/[\d.]+:\d+)\//)) as unknown as [string, string];
  const created = await runCli(["app", "create", "--approve", proxyApp(`http://127.0.0.1:${upstream.port}`), "/warm"], env());
  expect(created.code).toBe(0);
});

afterAll(async () => {
  await runCli(["app", "delete", "all"], env()).catch(() => {});
  await server?.stop();
  upstream?.stop(true);
  rmSync(home, { recursive: true, force: true });
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("isolated evaluation", () => {
  test("a warm app answers fast while another app.star loops; the loop stops at the time budget with its position", async () => {
    // Slow steps (a scan of 1 MB each), so the time budget trips long before the step limit.
    const runaway = proxyApp("http://127.0.0.1:1", 'def spin():\n    s = "x" * 1000000\n    while True:\n        s.find("y")\nspin()\n');
    const started = Date.now();
    const create = runCli(["app", "create", "--approve", runaway, "/spin"], env());
    const latencies = await latenciesWhile(create);
    const result = await create;
    expect(result.code).not.toBe(0);
    const output = result.stderr + result.stdout;
    expect(output).toMatch(/app\.star:[45]:\d+: /);
    expect(output).toContain("time budget of 3 s");
    expect(output).toContain("--eval-timeout-secs");
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(latencies.length).toBeGreaterThan(20);
    // Generous for a shared 2-core machine: the point is that no request waits for the runaway load (3 s).
    expect(Math.max(...latencies)).toBeLessThan(1000);
  });

  test("an app.star that allocates without end is refused at its budget; the server's memory stays bounded", async () => {
    const pid = server.proc.pid;
    const before = rssMb(pid);
    const hog = proxyApp("http://127.0.0.1:1", 'def grow():\n    s = "x" * (8 * 1024 * 1024)\n    for i in range(1000):\n        t = s.upper()\ngrow()\nbig = [0] * 1000000000\n');
    const create = runCli(["app", "create", "--approve", hog, "/hog"], env());
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 20);
    const latencies = await latenciesWhile(create);
    clearInterval(sampler);
    const result = await create;
    expect(result.code).not.toBe(0);
    const output = result.stderr + result.stdout;
    expect(output).toContain("memory budget exceeded");
    expect(output).toContain("budget of 128 MB");
    expect(output).toContain("--eval-memory-mb");
    expect(output).toContain("app.star:5:20: ");
    // The budget (128 MB) plus what the worker itself needs; without the budget this grows by gigabytes.
    expect(peak - before).toBeLessThan(128 + 200);
    expect(Math.max(...latencies)).toBeLessThan(1000);
  });

  test("the server keeps serving after runaway loads, and a normal app still loads", async () => {
    expect(await (await fetch(`${base}/warm/`)).text()).toBe("warm");
    const ok = await runCli(["app", "create", "--approve", proxyApp(`http://127.0.0.1:${upstream.port}`), "/second"], env());
    expect(ok.code).toBe(0);
    expect(await (await fetch(`${base}/second/`)).text()).toBe("warm");
  });
});

describe("boot with a slow config", () => {
  test("after a restart, other apps answer while one app's config is still being evaluated; it is served once loaded", async () => {
    const slowHome = tempHome();
    const url = `http://127.0.0.1:${upstream.port}`;
    // A few seconds per evaluation of app.star (well past the boot's 1 s wait), but inside the 10 s time budget.
    const slow = proxyApp(url, 'def slow():\n    s = "x" * 1000000\n    for i in range(4000):\n        s.find("y")\nslow()\n');
    let first: CliProcess | undefined;
    let second: CliProcess | undefined;
    try {
      first = new CliProcess(["server", "start", "--port", "0", "--https-port", "off"], { CL_HOME: slowHome });
      await first.waitFor(/listening on/);
      expect((await runCli(["app", "create", "--approve", proxyApp(url), "/fast"], { CL_HOME: slowHome })).code).toBe(0);
      const created = await runCli(["app", "create", "--approve", slow, "/slow"], { CL_HOME: slowHome });
      expect(created.code).toBe(0);
      await first.stop();

      const t0 = Date.now();
      second = new CliProcess(["server", "start", "--port", "0", "--https-port", "off"], { CL_HOME: slowHome });
      const [, base2] = (await second.waitFor(/listening on (http:\/\/[\d.]+:\d+)\//)) as unknown as [string, string];
      const fast = await fetch(`${base2}/fast/`);
      expect(await fast.text()).toBe("warm");
      const fastAfterMs = Date.now() - t0;
      // The slow app is not served before its config is done; the fast one did not wait for it.
      const early = await fetch(`${base2}/slow/`);
      expect(early.status).toBe(500);
      expect(await early.text()).toContain("still being evaluated");
      expect(fastAfterMs).toBeLessThan(3000);
      const deadline = Date.now() + 30_000;
      for (;;) {
        const res = await fetch(`${base2}/slow/`);
        if (res.status === 200) {
          expect(await res.text()).toBe("warm");
          break;
        }
        if (Date.now() > deadline) throw new Error(`the slow app never loaded: ${res.status} ${await res.text()}`);
        await Bun.sleep(200);
      }
    } finally {
      await runCli(["app", "delete", "all"], { CL_HOME: slowHome }).catch(() => {});
      await first?.stop();
      await second?.stop();
      rmSync(slowHome, { recursive: true, force: true });
    }
  }, 120_000);
});

