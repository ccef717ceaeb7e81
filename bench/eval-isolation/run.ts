/**
 * A warm app's latency while another app's app.star runs away. Starts `server start` in a temporary CL_HOME, mounts
 * a proxy app in front of a local upstream, and times sequential GETs to it: first alone, then while `app create`
 * evaluates a config that loops until the time budget (default 10 s) stops it, then while one allocates until the
 * memory budget stops it. Prints p50/p99/max per phase and the server's RSS (idle and peak).
 * Run: `bun bench/eval-isolation/run.ts` (BENCH_REQUESTS for the baseline count, default 2000).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CLI = join(import.meta.dir, "..", "..", "src", "cli", "main.ts");
const home = mkdtempSync(join(tmpdir(), "clace-lite-bench-"));
const env = { ...process.env, CL_HOME: home };

function appDir(name: string, url: string, prelude = ""): string {
  const dir = join(home, "src", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "app.star"),
    `load("proxy.in", "proxy")\n${prelude}\napp = ace.app("${name}", routes = [ace.proxy("/", proxy.config("${url}"))],\n` +
      `    permissions = [ace.permission("proxy.in", "config", ["${url}"])])\n`,
  );
  return dir;
}

async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(["bun", CLI, ...args], { env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out: out + err };
}

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
}

function summary(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(2);
  return `n=${s.length} p50=${at(0.5)} ms p99=${at(0.99)} ms max=${s[s.length - 1]!.toFixed(2)} ms`;
}

const upstream = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("warm") });
const server = Bun.spawn(["bun", CLI, "server", "start", "--port", "0", "--https-port", "off"], { env, stdout: "pipe", stderr: "pipe" });
try {
  let log = "";
  for (const stream of [server.stdout, server.stderr] as ReadableStream<Uint8Array>[]) {
    void (async () => {
      for await (const chunk of stream) log += new TextDecoder().decode(chunk);
    })();
  }
  let base: string | undefined;
  const deadline = Date.now() + 30_000;
  while (!(base = /listening on (http:\/\/[\d.]+:\d+)\//.exec(log)?.[1])) {
    if (server.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start: ${log}`);
    await Bun.sleep(20);
  }
  const warm = await cli("app", "create", "--approve", appDir("warm", `http://127.0.0.1:${upstream.port}`), "/warm");
  if (warm.code !== 0) throw new Error(warm.out);

  const get = async (): Promise<number> => {
    const t = performance.now();
    const res = await fetch(`${base}/warm/`);
    await res.text();
    return performance.now() - t;
  };
  for (let i = 0; i < 200; i++) await get(); // warm up the connection pool and the JIT

  const baseline: number[] = [];
  const n = Number(process.env.BENCH_REQUESTS ?? 2000);
  for (let i = 0; i < n; i++) baseline.push(await get());
  const idleRss = rssMb(server.pid);

  const during = async (name: string, prelude: string) => {
    const create = cli("app", "create", "--approve", appDir(name, "http://127.0.0.1:1", prelude), `/${name}`);
    let done = false;
    void create.finally(() => (done = true));
    const ms: number[] = [];
    let peak = 0;
    const started = performance.now();
    while (!done) {
      ms.push(await get());
      peak = Math.max(peak, rssMb(server.pid));
    }
    const result = await create;
    const reason = result.out.split("\n").find((l) => l.includes("budget")) ?? result.out.trim();
    return { ms, peak, secs: (performance.now() - started) / 1000, reason };
  };
  const loop = await during("loop", 'def spin():\n    s = "x" * 1000000\n    while True:\n        s.find("y")\nspin()\n');
  const hog = await during("hog", 'def grow():\n    xs = []\n    for i in range(100000000):\n        xs.append("%d" % i)\ngrow()\n');

  console.log(`Bun ${Bun.version}, ${navigator.hardwareConcurrency} cores`);
  console.log(`warm app alone:                       ${summary(baseline)}`);
  console.log(`while another app.star loops (${loop.secs.toFixed(1)} s):  ${summary(loop.ms)}`);
  console.log(`  stopped with: ${loop.reason}`);
  console.log(`while another app.star allocates (${hog.secs.toFixed(1)} s): ${summary(hog.ms)}`);
  console.log(`  stopped with: ${hog.reason}`);
  console.log(`server RSS: idle ${idleRss.toFixed(0)} MB, peak while looping ${loop.peak.toFixed(0)} MB, peak while allocating ${hog.peak.toFixed(0)} MB`);
} finally {
  server.kill("SIGTERM");
  await server.exited;
  upstream.stop(true);
  rmSync(home, { recursive: true, force: true });
}
