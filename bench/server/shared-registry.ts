/**
 * Several servers on one PostgreSQL registry, measured on this machine (loopback only, bounded):
 *   0. the registry alone: an insert committed through one connection → announced to another (LISTEN/NOTIFY);
 *   1. create → served by the other server: `app create` through A returns, then how long until B has mounted the
 *      app (its log says so; 0 when it had before the command returned) and until B answers it (the cold start of
 *      the container included);
 *   2. warm throughput of one server vs two (wrk against a busybox app; the same client shape, two wrk processes
 *      of 16 connections each, against A twice or against A and B).
 * PostgreSQL is Debian's, started on a free port with a temp data dir and removed at the end (tests/fixtures).
 * Needs wrk (`apt-get install wrk`). Every process it starts is stopped by its pid; the apps are deleted.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectEngine } from "../../src/containers/index.ts";
import { EMPTY_METADATA, PostgresAppStore } from "../../src/runtime/index.ts";
import { busyboxApp, busyboxImage } from "../../tests/fixtures/images.ts";
import { startPostgres } from "../../tests/fixtures/postgres.ts";
import { CliProcess, runCli, tempHome } from "../../tests/cli/helpers.ts";
import { median } from "../stats.ts";

const wrk = Bun.which("wrk");
if (wrk === null) {
  console.error("missing: wrk (apt-get install wrk)");
  process.exit(2);
}
const ROUNDS = 5;
const WRK_SECS = 5;

const engine = await connectEngine();
await busyboxImage(engine);
const postgres = await startPostgres();
const dirs: string[] = [];
const servers: { home: string; proc: CliProcess; base: string }[] = [];

async function wrkRps(url: string): Promise<number> {
  const proc = Bun.spawn([wrk!, "-t1", "-c16", `-d${WRK_SECS}s`, url], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const m = out.match(/Requests\/sec:\s+([\d.]+)/);
  if (!m) throw new Error(`wrk printed no rate:\n${out}`);
  if (/Non-2xx/.test(out)) throw new Error(`wrk saw errors:\n${out}`);
  return Number(m[1]);
}

try {
  const url = await postgres.createDatabase("bench");
  {
    const [writer, reader] = [await PostgresAppStore.connect(url), await PostgresAppStore.connect(url)];
    const arrived = new Map<string, number>();
    const watching = await reader.watch((c) => arrived.set(c.id, performance.now()));
    const latencies: number[] = [];
    for (let i = 0; i < 50; i++) {
      const id = `notify_${i}`;
      await writer.insert({ id, domain: "bench.invalid", path: `/n${i}`, source: "-", sourceDir: null, spec: "", dev: false, metadata: EMPTY_METADATA });
      const committed = performance.now();
      while (!arrived.has(id)) await Bun.sleep(0);
      latencies.push(Math.max(0, arrived.get(id)! - committed));
      await writer.delete(id);
    }
    await watching.close();
    await writer.close();
    await reader.close();
    console.log(`insert committed -> announced to another connection: median ${median(latencies).toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms (50 inserts)`);
  }
  const configDir = tempHome();
  dirs.push(configDir);
  const config = join(configDir, "clace-lite.toml");
  writeFileSync(config, `[metadata]\ndb = "${url}"\n`);
  for (const name of ["A", "B"]) {
    const home = tempHome();
    dirs.push(home);
    const proc = new CliProcess(["server", "start", "--port", "0", "--https-port", "off", "--config", config], { CL_HOME: home });
    const [, base] = await proc.waitFor(/listening on (http:\/\/[\d.]+:\d+)\//, 60_000);
    servers.push({ home, proc, base: base! });
    console.error(`server ${name} at ${base}`);
  }
  const [a, b] = servers as [(typeof servers)[0], (typeof servers)[0]];

  const mounted: number[] = [];
  const served: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const dir = busyboxApp({ index: `round ${round} ${Date.now()}\n` });
    dirs.push(dir);
    const path = `/r${round}`;
    const created = await runCli(["app", "create", "--spec", "container", "--approve", dir, path], { CL_HOME: a.home });
    if (created.code !== 0) throw new Error(created.stderr);
    const t0 = performance.now();
    const line = new RegExp(`${path}: created through another server, mounted`);
    const mountWait = (async () => {
      while (!line.test(b.proc.stderr)) await Bun.sleep(2);
      return performance.now() - t0;
    })();
    let answered = 0;
    for (;;) {
      const res = await fetch(`${b.base}${path}/`);
      await res.text();
      if (res.status === 200) {
        answered = performance.now() - t0;
        break;
      }
      await Bun.sleep(5);
    }
    mounted.push(await mountWait);
    served.push(answered);
  }
  console.log(`create through A -> mounted by B: median ${median(mounted).toFixed(0)} ms (${mounted.map((m) => m.toFixed(0)).join(", ")})`);
  console.log(`create through A -> answered by B (cold start included): median ${median(served).toFixed(0)} ms (${served.map((m) => m.toFixed(0)).join(", ")})`);

  const target = "/r0/";
  await fetch(a.base + target).then((r) => r.text());
  await fetch(b.base + target).then((r) => r.text());
  // Interleaved rounds, so that load from elsewhere on the machine falls on both alike; medians compared.
  const oneTotals: number[] = [];
  const twoTotals: number[] = [];
  for (let round = 0; round < 3; round++) {
    const one = await Promise.all([wrkRps(a.base + target), wrkRps(a.base + target)]);
    const two = await Promise.all([wrkRps(a.base + target), wrkRps(b.base + target)]);
    oneTotals.push(one[0]! + one[1]!);
    twoTotals.push(two[0]! + two[1]!);
  }
  const [oneMedian, twoMedian] = [median(oneTotals), median(twoTotals)];
  console.log(
    `warm throughput, 2 x wrk -c16 for ${WRK_SECS}s, 3 interleaved rounds: one server ${oneMedian.toFixed(0)} req/s (${oneTotals.map((x) => x.toFixed(0)).join(", ")}); ` +
      `two servers ${twoMedian.toFixed(0)} req/s (${twoTotals.map((x) => x.toFixed(0)).join(", ")}); ratio ${(twoMedian / oneMedian).toFixed(2)}`,
  );
  console.log(`machine: ${navigator.hardwareConcurrency} cores, servers, app container, PostgreSQL and wrk all on it`);
} finally {
  if (servers[0]) await runCli(["app", "delete", "all"], { CL_HOME: servers[0].home }).catch(() => {});
  for (const s of servers) await s.proc.stop();
  await postgres.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
