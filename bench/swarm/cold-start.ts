/**
 * Cold start through Swarm against plain Docker, interleaved in one run on one engine: the same busybox app behind
 * the same lifecycle, one manager per backend. Two shapes, median of N (default 8) each:
 *   first start  a new version of the app: a container created and started / a service updated and scaled to 1
 *   restart      after a stop: the container started again / the service scaled from 0 to 1
 * Time is to the first byte of an answer through the URL `ensureReady` gives. The engine is made a single-node swarm
 * manager for the run when it is in no swarm, and left after. No registry: images stay on this node.
 *
 *   bun bench/swarm/cold-start.ts [N]
 */
import { rmSync } from "node:fs";
import { AppContainers, SwarmEngine, connectEngine, type ContainerEngine, type ContainerSpec } from "../../src/containers/index.ts";
import { busyboxApp, busyboxImage } from "../../tests/fixtures/images.ts";
import { buildSpec } from "../../tests/containers/helpers.ts";
import { joinTestSwarm } from "../../tests/fixtures/swarm.ts";
import { firstByte, median, summary } from "../stats.ts";

const N = Number(process.argv[2] ?? 8);
const BENCH_LABEL = "dev.clace-lite.bench";
const labels = { [BENCH_LABEL]: `swarm-${process.pid}` };
const docker = await connectEngine();
await busyboxImage(docker);
const testSwarm = await joinTestSwarm(docker);
const swarm = await SwarmEngine.open(docker);
const dir = busyboxApp({ index: "bench\n" });

function spec(appId: string): ContainerSpec {
  return { ...buildSpec(appId, dir, { settings: { idleShutdownSecs: 0, idlePauseSecs: 0, statusCheckIntervalSecs: 0 } }), appName: appId, env: { PORT: "8080" } };
}


interface Backend {
  name: string;
  engine: ContainerEngine;
  manager: AppContainers;
  appId: string;
  first: number[];
  restart: number[];
}

const backends: Backend[] = [];
for (const [name, engine] of [["docker", docker], ["swarm", swarm]] as const) {
  const manager = new AppContainers(engine, { extraLabels: labels, stopTimeoutSecs: 1 });
  await manager.start();
  backends.push({ name, engine, manager, appId: `bench_swarm_${name}_${process.pid}`, first: [], restart: [] });
}

async function timed(b: Backend, fn: () => Promise<string>): Promise<number> {
  const t0 = performance.now();
  await firstByte(await fn());
  return performance.now() - t0;
}

try {
  for (const b of backends) {
    // The image is built once, outside the timings.
    const app = await b.manager.add(spec(b.appId));
    await firstByte(await app.ensureReady());
    await app.stop();
  }
  for (let i = 0; i < N; i++) {
    for (const b of backends) {
      // A new version each round (an env change: same image, another container), so that it is created anew.
      const s = spec(b.appId);
      const next = { ...s, env: { ...s.env, ROUND: String(i) } };
      await b.manager.add(next);
      const app = b.manager.get(b.appId)!;
      b.first.push(await timed(b, () => app.ensureReady()));
      await app.stop();
      b.restart.push(await timed(b, () => app.ensureReady()));
      await app.stop();
    }
  }
  const [d, s] = backends as [Backend, Backend];
  console.log(`cold start, busybox app, N=${N}, interleaved (first byte through the lifecycle's URL)`);
  for (const b of backends) {
    console.log(`  ${b.name.padEnd(6)} first start: ${summary(b.first)}`);
    console.log(`  ${b.name.padEnd(6)} restart:     ${summary(b.restart)}`);
  }
  console.log(`  swarm/docker: first start ×${(median(s.first) / median(d.first)).toFixed(2)}, restart ×${(median(s.restart) / median(d.restart)).toFixed(2)}`);
  console.log(`  scale-up overhead (swarm restart − docker restart): ${(median(s.restart) - median(d.restart)).toFixed(0)} ms`);
} finally {
  for (const b of backends) {
    await b.manager.remove(b.appId).catch(() => {});
    b.manager.close();
  }
  rmSync(dir, { recursive: true, force: true });
  const left = await testSwarm.leave((l) => l[BENCH_LABEL] === labels[BENCH_LABEL]);
  if (left === "kept" && testSwarm.initialised) console.log("  (the swarm this run made is kept: services of others are in it)");
}
