/**
 * Wake from a pause against a cold start of the same app (its image cached, its container stopped by an idle stop),
 * first byte through `ensureReady`, median of N each, interleaved in one run, for two apps: the busybox httpd app
 * and a Flask app built with the bundled python-flask spec on the offline stand-in base (tests/fixtures).
 *
 *   bun bench/containers/wake.ts [N]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppContainers, connectEngine, DEFAULT_CONTAINER_SETTINGS, type AppContainer, type ContainerSpec } from "../../src/containers/index.ts";
import { loadApp } from "../../src/runtime/index.ts";
import { busyboxApp, busyboxImage } from "../../tests/fixtures/images.ts";
import { specBaseImage } from "../../tests/fixtures/spec-bases.ts";
import { buildSpec } from "../../tests/containers/helpers.ts";
import { firstByte, median } from "../stats.ts";

const N = Number(process.argv[2] ?? 10);
const labels = { "dev.clace-lite.bench": String(process.pid) };
const engine = await connectEngine();
await Promise.all([busyboxImage(engine), specBaseImage(engine, "python:3.12.5-slim")]);

const busyboxDir = busyboxApp({ index: "bench\n" });
const flaskDir = mkdtempSync(join(tmpdir(), "clace-lite-bench-flask-"));
writeFileSync(join(flaskDir, "app.py"), 'from flask import Flask\napp = Flask(__name__)\n\n@app.route("/")\ndef index():\n    return "hello from flask\\n"\n');
writeFileSync(join(flaskDir, "requirements.txt"), "flask\n");

/** Pause after 1 s idle and never stop: the bench decides when to stop. */
const settings = { ...DEFAULT_CONTAINER_SETTINGS, idlePauseSecs: 1, idleShutdownSecs: 0, statusCheckIntervalSecs: 0 };

function busyboxSpec(): ContainerSpec {
  return { ...buildSpec("bench_wake_busybox", busyboxDir), appName: "/busybox", settings };
}

function flaskSpec(): ContainerSpec {
  const config = loadApp({ source: flaskDir, spec: "python-flask", approved: "all-audited", appId: "bench_wake_flask", path: "/flask" });
  return { ...config.container!, settings };
}

async function until(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(20);
  }
}

const fmt = (xs: number[]) => `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;

async function timed(app: AppContainer, path: string): Promise<number> {
  const t0 = performance.now();
  const url = await app.ensureReady();
  await firstByte(url + path);
  return performance.now() - t0;
}

const manager = new AppContainers(engine, { extraLabels: labels, stopTimeoutSecs: 1 });
await manager.start();
console.log(`engine: ${engine.kind} at ${engine.endpoint}; N=${N}; first byte through ensureReady`);
for (const [name, spec, path] of [["busybox httpd", busyboxSpec(), "/"], ["Flask (python-flask spec)", flaskSpec(), "/"]] as const) {
  const app = await manager.add(spec);
  await app.ensureReady(); // builds the image once
  const wake: number[] = [];
  const cold: number[] = [];
  for (let i = 0; i < N; i++) {
    await until(() => app.state === "paused", 10_000);
    wake.push(await timed(app, path));
    await app.stop("bench");
    cold.push(await timed(app, path));
  }
  await manager.remove(spec.appId);
  const ratio = median(cold) / median(wake);
  console.log(`${name}: wake from paused ${fmt(wake)}; cold start (cached image, stopped container) ${fmt(cold)}; ${ratio.toFixed(1)}× faster`);
}
manager.close();
rmSync(busyboxDir, { recursive: true, force: true });
rmSync(flaskDir, { recursive: true, force: true });
