/**
 * "The environment is real": the engine answers, the busybox fixture builds from a context, a container runs
 * published on 127.0.0.1 with an ephemeral port, answers HTTP, and is removed.
 */
import { afterAll, expect, test } from "bun:test";
import { DEFAULT_ULIMITS } from "../../src/containers/index.ts";
import { suiteLabels, sweep, testEngine, wantedEngine } from "../fixtures/engine.ts";
import { busyboxImage } from "../fixtures/images.ts";

const labels = suiteLabels("environment");

afterAll(async () => {
  await sweep(await testEngine(), labels);
});

test("the engine answers a version call", async () => {
  const engine = await testEngine();
  const v = await engine.ping();
  expect(v.kind).toBe(wantedEngine());
  expect(v.apiVersion).toMatch(/^\d+\.\d+$/);
});

test("a busybox container built offline serves HTTP on a 127.0.0.1 ephemeral port", async () => {
  const engine = await testEngine();
  const image = await busyboxImage(engine);
  const name = `clace-lite-env-${process.pid}`;
  const id = await engine.createContainer({
    name,
    image,
    env: {},
    labels,
    port: 8080,
    binds: [],
    ulimits: DEFAULT_ULIMITS,
    cmd: ["/bin/sh", "-c", "echo up > /www/index.html && exec httpd -f -p 8080 -h /www"],
  });
  try {
    await engine.startContainer(id);
    let port = 0;
    for (let i = 0; i < 50 && !port; i++) {
      port = (await engine.inspectContainer(id))?.hostPorts["8080/tcp"] ?? 0;
      if (!port) await Bun.sleep(20);
    }
    expect(port).toBeGreaterThan(0);
    let body = "";
    for (let i = 0; i < 100 && body === ""; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        body = await res.text();
      } catch {
        await Bun.sleep(25);
      }
    }
    expect(body).toBe("up\n");
  } finally {
    await engine.removeContainer(id);
  }
  expect(await engine.inspectContainer(id)).toBeNull();
});
