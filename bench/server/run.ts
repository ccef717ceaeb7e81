/**
 * Server figures: the compiled binary's size, time from exec to accepting connections (binary and `bun` on the
 * source), and the server's resident memory when idle with 100 apps.
 *
 *   bun bench/server/run.ts [--apps 100] [--runs 10]
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { median } from "../stats.ts";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { apps: { type: "string", default: "100" }, runs: { type: "string", default: "10" } } });
const APPS = Number(values.apps);
const RUNS = Number(values.runs);
const ROOT = join(import.meta.dir, "..", "..");
const work = mkdtempSync(join(tmpdir(), "clace-lite-bench-"));

async function canConnect(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

/** Milliseconds from spawn until the port accepts a TCP connection. */
async function timeToAccept(cmd: string[], port: number): Promise<number> {
  const started = performance.now();
  const proc = Bun.spawn(cmd, { cwd: work, stdout: "ignore", stderr: "ignore", env: process.env });
  try {
    while (!(await canConnect(port))) {
      if (performance.now() - started > 10_000) throw new Error(`${cmd.join(" ")} did not listen within 10 s`);
    }
    return performance.now() - started;
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

const binary = join(work, "clace-lite");
const build = Bun.spawnSync(["bun", "run", "build", "--outfile", binary], { cwd: ROOT, stderr: "pipe" });
if (build.exitCode !== 0) throw new Error(build.stderr.toString());
const sizeMiB = Bun.file(binary).size / 1024 / 1024;

const serveArgs = (port: number) => ["serve", "-", "--spec", "proxy", "--param", "url=http://127.0.0.1:9", "--approve", "--port", String(port)];
const binaryTimes: number[] = [];
const sourceTimes: number[] = [];
const serverTimes: number[] = [];
for (let i = 0; i < RUNS; i++) {
  binaryTimes.push(await timeToAccept([binary, ...serveArgs(25290)], 25290));
  sourceTimes.push(await timeToAccept(["bun", join(ROOT, "src/cli/main.ts"), ...serveArgs(25291)], 25291));
  process.env.CL_HOME = join(work, `accept-home-${i}`);
  serverTimes.push(await timeToAccept([binary, "server", "start", "--port", "25293", "--https-port", "off"], 25293));
}
delete process.env.CL_HOME;

// Server RSS: start it, create APPS proxy apps through the admin socket, let it settle, read VmRSS.
const home = join(work, "home");
const server = Bun.spawn([binary, "server", "start", "--port", "25292", "--https-port", "off"], { cwd: work, env: { ...process.env, CL_HOME: home }, stdout: "ignore", stderr: "ignore" });
const socket = join(home, "run", "admin.sock");
const deadline = Date.now() + 20_000;
while (!existsSync(socket)) {
  if (Date.now() > deadline || server.exitCode !== null) {
    server.kill("SIGTERM");
    throw new Error("the server did not start (is port 25292 in use?)");
  }
  await Bun.sleep(50);
}
await Bun.sleep(200);
const rssEmpty = rssMiB(server.pid);
for (let i = 0; i < APPS; i++) {
  const res = await fetch("http://clace-lite/v1/apps", {
    unix: socket,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ source: "-", location: `/app${i}`, spec: "proxy", params: { url: `http://127.0.0.1:${10000 + i}` }, approve: true }),
  });
  if (!res.ok) throw new Error(await res.text());
}
Bun.gc(true);
await Bun.sleep(2000);
const rssApps = rssMiB(server.pid);
server.kill("SIGTERM");
await server.exited;
rmSync(work, { recursive: true, force: true });

console.log(`binary size:                      ${sizeMiB.toFixed(1)} MiB`);
console.log(`serve → accepting (binary):       median ${median(binaryTimes).toFixed(0)} ms over ${RUNS} runs`);
console.log(`serve → accepting (bun + source): median ${median(sourceTimes).toFixed(0)} ms over ${RUNS} runs`);
console.log(`server start → accepting (binary): median ${median(serverTimes).toFixed(0)} ms over ${RUNS} runs`);
console.log(`server RSS idle, no apps:         ${rssEmpty.toFixed(1)} MiB`);
console.log(`server RSS idle, ${APPS} apps:        ${rssApps.toFixed(1)} MiB`);
