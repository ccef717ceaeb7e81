/**
 * Proxy benchmark: every shape of traffic users send, against the upstream directly, through nginx and through
 * clace-lite, in one run: GET tiny at 32 and 256 connections, POST 1 KB echoed, POST 1 MB uploads, GET 1 MB,
 * HTTPS GET tiny (both with the same self-signed certificate) and WebSocket echo messages. nginx runs with
 * `worker_processes auto`, upstream keep-alive, and request and answer buffering off (streaming, like clace-lite).
 * HTTP shapes use wrk; WebSocket messages use a ping-pong client in this process against both proxies alike.
 * Installs nothing: it says what to apt-get install when wrk or nginx is missing. Every process it starts is
 * stopped by its own pid.
 *
 *   bun run bench/proxy/run.ts [--duration 5] [--runs 3] [--only "GET tiny"]
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
const DURATION = opt("duration", 5);
const RUNS = opt("runs", 3);
const ONLY = args.includes("--only") ? args[args.indexOf("--only") + 1]! : "";
const WARMUP = 1;

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

async function startBun(script: string, env: Record<string, string>): Promise<number[]> {
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
  return text.trim().split(/\s+/).map(Number);
}

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const p = s.port!;
  s.stop(true);
  return p;
}

async function startNginx(upstreamPort: number, cert: string, key: string): Promise<{ http: number; https: number }> {
  const port = await freePort();
  const httpsPort = await freePort();
  nginxPidFile = join(work, "nginx.pid");
  const conf = `
worker_processes auto;
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
  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 1024; }
  map $http_upgrade $connection_upgrade { default upgrade; "" ""; }
  server {
    listen 127.0.0.1:${port};
    listen 127.0.0.1:${httpsPort} ssl;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    client_max_body_size 0;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Upgrade $http_upgrade;
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
  return { http: port, https: httpsPort };
}

async function waitUp(port: number, proto = "http"): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`${proto}://127.0.0.1:${port}/`, { tls: { rejectUnauthorized: false } } as RequestInit);
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

async function runWrk(shape: Shape, port: number, seconds: number): Promise<Result> {
  if (shape.ws) return runWebSocket(port, shape.conns, seconds);
  const script = shape.script ? ["-s", join(work, shape.script)] : [];
  const url = `${shape.https ? "https" : "http"}://127.0.0.1:${port}${shape.path}`;
  const proc = Bun.spawn([wrk!, "-t1", `-c${shape.conns}`, `-d${seconds}s`, "--latency", ...script, url], { stdout: "pipe" });
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

/** WebSocket echo: `conns` clients, each sending a 64-byte message and waiting for its echo, for `seconds`. */
async function runWebSocket(port: number, conns: number, seconds: number): Promise<Result> {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const message = "x".repeat(64);
  let errors = 0;
  await Promise.all(
    Array.from(
      { length: conns },
      () =>
        new Promise<void>((resolve) => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
          let sent = 0;
          ws.onopen = () => {
            sent = performance.now();
            ws.send(message);
          };
          ws.onmessage = () => {
            const now = performance.now();
            latencies.push(now - sent);
            if (now < end) {
              sent = now;
              ws.send(message);
            } else {
              ws.close();
              resolve();
            }
          };
          ws.onerror = () => {
            errors++;
            resolve();
          };
        }),
    ),
  );
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? NaN;
  return { rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), errors: errors > 0 ? `${errors} socket errors` : "" };
}

interface Shape {
  name: string;
  path: string;
  conns: number;
  script?: string;
  https?: boolean;
  ws?: boolean;
}

function median(rs: Result[]): Result {
  const by = (k: "rps" | "p50" | "p99") => [...rs].sort((a, b) => a[k] - b[k])[Math.floor(rs.length / 2)]![k];
  return { rps: by("rps"), p50: by("p50"), p99: by("p99"), errors: rs.map((r) => r.errors).filter(Boolean).join(" | ") };
}

try {
  writeFileSync(join(work, "post1k.lua"), `wrk.method = "POST"\nwrk.body = string.rep("x", 1024)\nwrk.headers["Content-Type"] = "application/octet-stream"\n`);
  writeFileSync(join(work, "upload1m.lua"), `wrk.method = "POST"\nwrk.body = string.rep("x", 1048576)\nwrk.headers["Content-Type"] = "application/octet-stream"\n`);
  const cert = join(work, "cert.pem");
  const key = join(work, "key.pem");
  const openssl = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"], { stderr: "pipe" });
  if (openssl.exitCode !== 0) throw new Error(`openssl: ${openssl.stderr.toString()}`);

  const [upstreamPort] = (await startBun("upstream.ts", {})) as [number];
  await waitUp(upstreamPort);
  const ngx = await startNginx(upstreamPort, cert, key);
  await waitUp(ngx.http);
  const proxyEnv = { UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}`, TLS_CERT: cert, TLS_KEY: key };
  const [clacePort, claceHttps] = (await startBun("proxy-server.ts", proxyEnv)) as [number, number];
  await waitUp(clacePort);

  const targets = [
    { name: "direct", port: upstreamPort, httpsPort: 0 },
    { name: "nginx", port: ngx.http, httpsPort: ngx.https },
    { name: "clace-lite", port: clacePort, httpsPort: claceHttps },
  ];
  for (const spec of (process.env.BENCH_EXTRA ?? "").split(",").filter(Boolean)) {
    const [name, script] = spec.split("=") as [string, string];
    const [port, httpsPort] = (await startBun(script, proxyEnv)) as [number, number];
    await waitUp(port);
    targets.push({ name, port, httpsPort });
  }
  const shapes: Shape[] = [
    { name: "GET tiny, 32 conns", path: "/tiny", conns: 32 },
    { name: "GET tiny, 256 conns", path: "/tiny", conns: 256 },
    { name: "POST 1 KB echoed", path: "/echo", conns: 32, script: "post1k.lua" },
    { name: "POST 1 MB upload", path: "/upload", conns: 8, script: "upload1m.lua" },
    { name: "GET 1 MB", path: "/1m", conns: 8 },
    { name: "HTTPS GET tiny", path: "/tiny", conns: 32, https: true },
    { name: "WebSocket echo msgs", path: "/ws", conns: 32, ws: true },
  ].filter((s) => ONLY === "" || s.name.startsWith(ONLY));
  console.log(`${RUNS} run(s) of ${DURATION} s each (median), ${WARMUP} s warm-up; wrk -t1; Bun ${Bun.version}, kernel ${release()}; ${navigator.hardwareConcurrency} cores shared by the load, upstream and proxy`);
  const table: { shape: string; target: string; r: Result }[] = [];
  for (const shape of shapes) {
    const here = targets.filter((t) => !shape.https || t.httpsPort > 0).map((t) => ({ name: t.name, port: shape.https ? t.httpsPort : t.port }));
    for (const t of here) await runWrk(shape, t.port, WARMUP);
    const results = new Map<string, Result[]>(here.map((t) => [t.name, []]));
    // Interleave the targets so that noise from other load on the machine spreads over all of them.
    for (let i = 0; i < RUNS; i++) {
      for (const t of here) results.get(t.name)!.push(await runWrk(shape, t.port, DURATION));
    }
    for (const t of here) table.push({ shape: shape.name, target: t.name, r: median(results.get(t.name)!) });
  }
  console.log("\n| shape | target | req/s | p50 ms | p99 ms | vs nginx req/s | errors |");
  console.log("|---|---|---:|---:|---:|---:|---|");
  for (const row of table) {
    const ng = table.find((x) => x.shape === row.shape && x.target === "nginx")!.r;
    console.log(`| ${row.shape} | ${row.target} | ${row.r.rps.toFixed(0)} | ${row.r.p50.toFixed(2)} | ${row.r.p99.toFixed(2)} | ${(row.r.rps / ng.rps).toFixed(2)}× | ${row.r.errors || "-"} |`);
  }
} finally {
  cleanup();
}
