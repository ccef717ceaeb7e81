/** Container options that widen reach reach the engine as the matching HostConfig fields (real engine). */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { mapOptions, type AppContainers, type DockerEngine } from "../../src/containers/index.ts";
import { suiteLabels, sweep, testEngine } from "../fixtures/engine.ts";
import { busyboxApp, busyboxImage } from "../fixtures/images.ts";
import { appId, buildSpec, getText, recordingManager } from "./helpers.ts";

const labels = suiteLabels("options");
let engine: DockerEngine;
let manager: AppContainers;
const dirs: string[] = [];

beforeAll(async () => {
  engine = await testEngine();
  await busyboxImage(engine);
  manager = recordingManager(engine, labels).manager;
  await manager.start();
});

afterAll(async () => {
  manager?.close();
  await sweep(engine, labels);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 60_000);

/** The engine's own view of the container (the Engine API over its socket). */
async function hostConfig(id: string): Promise<Record<string, unknown>> {
  const ep = engine.endpoint;
  const res = ep.startsWith("unix://")
    ? await fetch(`http://engine/containers/${id}/json`, { unix: ep.slice("unix://".length) })
    : await fetch(`${ep.replace(/^tcp:/, "http:")}/containers/${id}/json`);
  return ((await res.json()) as { HostConfig: Record<string, unknown> }).HostConfig;
}

// privileged itself is left to the unit test of the mapping: some engines (rootless, nested) refuse to start one.
test("pid and ipc namespaces and a device reach the container's HostConfig, and it still serves", async () => {
  const dir = busyboxApp({ index: "widened\n" });
  dirs.push(dir);
  const app = await manager.add(buildSpec(appId("widen"), dir, { options: { pid: "host", ipc: "private", device: "/dev/null:/dev/extra-null" } }));
  const url = await app.ensureReady();
  expect((await getText(url + "/")).body).toBe("widened\n");
  const hc = await hostConfig(app.currentContainerId!);
  expect(hc.PidMode).toBe("host");
  expect(hc.Devices).toEqual([{ PathOnHost: "/dev/null", PathInContainer: "/dev/extra-null", CgroupPermissions: "rwm" }]);
  expect(hc.IpcMode).toBe("private");
}, 60_000);

test("the mapping of privileged and cap-add", () => {
  expect(mapOptions({ privileged: "" }).hostConfig.Privileged).toBe(true);
  expect(mapOptions({ privileged: "false" }).hostConfig.Privileged).toBe(false);
  expect(mapOptions({ "cap-add": "NET_ADMIN,SYS_TIME" }).hostConfig.CapAdd).toEqual(["NET_ADMIN", "SYS_TIME"]);
});
