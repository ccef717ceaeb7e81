/**
 * Cold start of a cached image: first byte through `ensureReady` against the raw floor (engine create + start,
 * then a tight HTTP poll on the published port), interleaved in one run, median of N (default 12). Also the restart
 * of a stopped container (idle stop → next request), and the memory of a manager holding 200 stopped apps.
 *
 *   bun bench/containers/cold-start.ts [N]
 */
import { rmSync } from "node:fs";
import {
  AppContainers,
  DEFAULT_ULIMITS,
  LABEL_APP,
  connectEngine,
  type ContainerSpec,
} from "../../src/containers/index.ts";
import { busyboxApp, busyboxImage } from "../../tests/fixtures/images.ts";
import { buildSpec } from "../../tests/containers/helpers.ts";
import { firstByte, median, summary } from "../stats.ts";

const N = Number(process.argv[2] ?? 12);
const labels = { "dev.clace-lite.bench": String(process.pid) };
const engine = await connectEngine();
await busyboxImage(engine);
const dir = busyboxApp({ index: "bench\n" });

function spec(appId: string): ContainerSpec {
  return { ...buildSpec(appId, dir, { settings: { idleShutdownSecs: 0, statusCheckIntervalSecs: 0 } }), appName: appId, env: { PORT: "8080" } };
}


const manager = new AppContainers(engine, { extraLabels: labels, stopTimeoutSecs: 1 });
await manager.start();
const app = await manager.add(spec("bench_cold"));
await app.ensureReady(); // builds the app image once
const image = `cli-bench_cold:${app.imageHash}`;
await app.stop();

async function removeAppContainers(): Promise<void> {
  for (const c of await engine.listContainers([`${LABEL_APP}=bench_cold`], true)) await engine.removeContainer(c.id);
}

/** The floor: create + start by hand, then poll as fast as possible for an HTTP answer. */
async function floorOnce(i: number): Promise<number> {
  const t0 = performance.now();
  const id = await engine.createContainer({
    name: `clace-lite-bench-floor-${process.pid}-${i}`,
    image,
    env: { PORT: "8080" },
    labels,
    port: 8080,
    binds: [],
    ulimits: DEFAULT_ULIMITS,
  });
  await engine.startContainer(id);
  let port = 0;
  while (!port) port = (await engine.inspectContainer(id))?.hostPorts["8080/tcp"] ?? 0;
  for (;;) {
    try {
      await firstByte(`http://127.0.0.1:${port}/`);
      break;
    } catch {
      // Not listening yet: poll again at once.
    }
  }
  const ms = performance.now() - t0;
  await engine.removeContainer(id);
  return ms;
}

async function managedCold(): Promise<number> {
  await removeAppContainers();
  const t0 = performance.now();
  const url = await app.ensureReady();
  await firstByte(url + "/");
  const ms = performance.now() - t0;
  await app.stop();
  return ms;
}

async function managedRestart(): Promise<number> {
  const t0 = performance.now();
  const url = await app.ensureReady();
  await firstByte(url + "/");
  const ms = performance.now() - t0;
  await app.stop();
  return ms;
}

const floor: number[] = [];
const cold: number[] = [];
const restart: number[] = [];
await floorOnce(-1); // warm-up
for (let i = 0; i < N; i++) {
  floor.push(await floorOnce(i));
  cold.push(await managedCold());
  restart.push(await managedRestart());
}
await manager.remove("bench_cold");
manager.close();

console.log(`engine: ${engine.kind} at ${engine.endpoint}; N=${N}`);
console.log(`raw floor (create+start+tight poll):        ${summary(floor)}`);
console.log(`ensureReady cold (create+start+probe):      ${summary(cold)}  → +${(median(cold) - median(floor)).toFixed(0)} ms over the floor`);
console.log(`ensureReady restart of a stopped container: ${summary(restart)}`);

// Memory of a manager with 200 registered, stopped apps.
Bun.gc(true);
const before = process.memoryUsage();
const many = new AppContainers(engine, { extraLabels: labels });
for (let i = 0; i < 200; i++) await many.add(spec(`bench_mem_${i}`));
Bun.gc(true);
const after = process.memoryUsage();
console.log(
  `200 stopped apps: heap +${((after.heapUsed - before.heapUsed) / 1024).toFixed(0)} KiB, rss +${((after.rss - before.rss) / 1024 / 1024).toFixed(1)} MiB (rss total ${(after.rss / 1024 / 1024).toFixed(0)} MiB)`,
);
many.close();

for (const c of await engine.listContainers(Object.entries(labels).map(([k, v]) => `${k}=${v}`), true)) await engine.removeContainer(c.id);
for (const i of await engine.listImages(Object.entries(labels).map(([k, v]) => `${k}=${v}`))) await engine.removeImage(i.id, true).catch(() => {});
rmSync(dir, { recursive: true, force: true });
