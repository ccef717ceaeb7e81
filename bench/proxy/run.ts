/**
 * Proxy benchmark: wrk on loopback, 32 connections, a tiny and a 20 KB body, against the upstream directly,
 * through nginx (upstream keep-alive on) and through clace-lite, in one run. Installs nothing: it says what to
 * apt-get install when wrk or nginx is missing. Every process it starts is stopped by its own pid.
 *
 *   bun run bench/proxy/run.ts [--duration 10] [--runs 3] [--connections 32]
 *
 * BENCH_EXTRA="name=/path/to/proxy-server.ts,..." adds more proxies built the same way (e.g. an older checkout)
 * as extra targets, interleaved with the others, for A/B comparisons under the same machine load.
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { release, tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const DURATION = opt("duration", 10);
const RUNS = opt("runs", 3);
const CONNECTIONS = opt("connections", 32);
const WARMUP = 2;

const wrk = Bun.which("wrk");
const nginx = Bun.which("nginx") ?? (existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : null);
if (wrk === null || nginx === null) {
  console.error(`missing: ${[wrk === null ? "wrk" : "", nginx === null ? "nginx" : ""].filter(Boolean).join(", ")}`);
  console.error("install with: apt-get install -y wrk nginx-light");
  process.exit(2);
}

const here = import.meta.dir;
const work = mkdtempSync(join(tmpdir(), "clace-lite-bench-"));
const children: Subprocess[] = [];
let nginxPidFile = "";

function cleanup(): void {
  for (const c of children) c.kill();
  if (nginxPidFile !== "" && existsSync(nginxPidFile)) {
    const pid = Number(readFileSync(nginxPidFile, "utf8").trim());
    if (pid > 0) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {}
    }
  }
  rmSync(work, { recursive: true, force: true });
}
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});

async function startBun(script: string, env: Record<string, string>): Promise<number> {
  const child = Bun.spawn(["bun", script.startsWith("/") ? script : join(here, script)], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "inherit" });
  children.push(child);
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${script} exited before printing its port`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return Number(text.trim());
}

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const p = s.port!;
  s.stop(true);
  return p;
}

async function startNginx(upstreamPort: number): Promise<number> {
  const port = await freePort();
  nginxPidFile = join(work, "nginx.pid");
  const conf = `
worker_processes 1;
pid ${nginxPidFile};
error_log ${work}/error.log warn;
daemon on;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${work}/body;
  proxy_temp_path ${work}/proxy;
  fastcgi_temp_path ${work}/fastcgi;
  uwsgi_temp_path ${work}/uwsgi;
  scgi_temp_path ${work}/scgi;
  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $proxy_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`;
  const confPath = join(work, "nginx.conf");
  writeFileSync(confPath, conf);
  const proc = Bun.spawn([nginx!, "-c", confPath, "-p", work, "-e", join(work, "error.log")], { stdout: "inherit", stderr: "inherit" });
  if ((await proc.exited) !== 0) throw new Error("nginx did not start");
  return port;
}

async function waitUp(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      await Bun.sleep(50);
    }
  }
  throw new Error(`nothing answers on ${port}`);
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: string;
}

function ms(v: string, unit: string): number {
  const n = Number(v);
  return unit === "us" ? n / 1000 : unit === "s" ? n * 1000 : n;
}

async function runWrk(port: number, path: string, seconds: number): Promise<Result> {
  const proc = Bun.spawn([wrk!, "-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency", `http://127.0.0.1:${port}${path}`], { stdout: "pipe" });
  const out = await new Response(proc.stdout).text();
  if (process.env.BENCH_DEBUG && !out.includes("Requests/sec")) console.error(out);
  await proc.exited;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? "0");
  const p50 = /\s50%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const errs = /Socket errors:.*|Non-2xx or 3xx responses: \d+/g;
  return {
    rps,
    p50: p50 ? ms(p50[1]!, p50[2]!) : NaN,
    p99: p99 ? ms(p99[1]!, p99[2]!) : NaN,
    errors: (out.match(errs) ?? []).join("; "),
  };
}

function median(rs: Result[]): Result {
  const by = (k: "rps" | "p50" | "p99") => [...rs].sort((a, b) => a[k] - b[k])[Math.floor(rs.length / 2)]![k];
  return { rps: by("rps"), p50: by("p50"), p99: by("p99"), errors: rs.map((r) => r.errors).filter(Boolean).join(" | ") };
}

try {
  const upstreamPort = await startBun("upstream.ts", {});
  await waitUp(upstreamPort);
  const nginxPort = await startNginx(upstreamPort);
  await waitUp(nginxPort);
  const clacePort = await startBun("proxy-server.ts", { UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}` });
  await waitUp(clacePort);

  const targets = [
    { name: "direct", port: upstreamPort },
    { name: "nginx", port: nginxPort },
    { name: "clace-lite", port: clacePort },
  ];
  for (const spec of (process.env.BENCH_EXTRA ?? "").split(",").filter(Boolean)) {
    const [name, script] = spec.split("=") as [string, string];
    const port = await startBun(script, { UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}` });
    await waitUp(port);
    targets.push({ name, port });
  }
  const bodies = [
    { name: "tiny", path: "/tiny" },
    { name: "20 KB", path: "/20k" },
  ];
  console.log(`wrk -t1 -c${CONNECTIONS}, ${RUNS} run(s) of ${DURATION} s each (median), ${WARMUP} s warm-up; Bun ${Bun.version}, kernel ${release()}; ${navigator.hardwareConcurrency} cores shared by wrk, upstream and proxy`);
  const table: { body: string; target: string; r: Result }[] = [];
  for (const body of bodies) {
    for (const t of targets) await runWrk(t.port, body.path, WARMUP);
    const results = new Map<string, Result[]>(targets.map((t) => [t.name, []]));
    // Interleave the targets so that noise from other load on the machine spreads over all of them.
    for (let i = 0; i < RUNS; i++) {
      for (const t of targets) results.get(t.name)!.push(await runWrk(t.port, body.path, DURATION));
    }
    for (const t of targets) table.push({ body: body.name, target: t.name, r: median(results.get(t.name)!) });
  }
  console.log("\n| body | target | req/s | p50 ms | p99 ms | vs nginx rps | errors |");
  console.log("|---|---|---:|---:|---:|---:|---|");
  for (const row of table) {
    const ng = table.find((x) => x.body === row.body && x.target === "nginx")!.r;
    console.log(`| ${row.body} | ${row.target} | ${row.r.rps.toFixed(0)} | ${row.r.p50.toFixed(2)} | ${row.r.p99.toFixed(2)} | ${(row.r.rps / ng.rps).toFixed(2)}× | ${row.r.errors || "-"} |`);
  }
} finally {
  cleanup();
}
