/**
 * Loaded before every test file (bunfig.toml). After the whole run: what `serve` and `check` built from the test
 * processes' app folders is removed. They keep an app's image for the next run on purpose (as users want), so
 * without this every run would leave its images in the engine, and a store that only grows slows every later run.
 */
import { afterAll } from "bun:test";
import { LABEL_APP, LABEL_MANAGED } from "../src/containers/index.ts";
import { defaultAppId } from "../src/runtime/index.ts";
import { connectedEngine } from "./fixtures/engine.ts";
import { writtenAppDirs } from "./fixtures/images.ts";

afterAll(async () => {
  const engine = await connectedEngine()?.catch(() => undefined);
  if (engine === undefined || writtenAppDirs.length === 0) return;
  // `serve DIR` and `check DIR` mount the app at / unless told otherwise; that is the id their images carry.
  const ids = new Set(writtenAppDirs.map((dir) => defaultAppId({ source: dir, domain: "", path: "/" })));
  const ours = (labels: Readonly<Record<string, string>>) => ids.has(labels[LABEL_APP] ?? "");
  const managed = [`${LABEL_MANAGED}=true`];
  for (const c of await engine.listContainers(managed, true)) if (ours(c.labels)) await engine.removeContainer(c.id).catch(() => {});
  for (const i of await engine.listImages(managed)) if (ours(i.labels)) await engine.removeImage(i.id, true).catch(() => {});
  for (const v of await engine.listVolumes(managed)) if (ours(v.labels)) await engine.removeVolume(v.name).catch(() => {});
});
