/** Volumes against the real engine: named volumes persist across a recreate, secret files are rendered and mounted read-only, options reach HostConfig. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { LABEL_APP, type AppContainers, type DockerEngine } from "../../src/containers/index.ts";
import { suiteLabels, sweep, testEngine } from "../fixtures/engine.ts";
import { BUSYBOX_IMAGE, busyboxImage, writeAppDir } from "../fixtures/images.ts";
import { appId, buildSpec, getText, recordingManager } from "./helpers.ts";

const labels = suiteLabels("volumes");
let engine: DockerEngine;
let manager: AppContainers;
const dirs: string[] = [];

beforeAll(async () => {
  engine = await testEngine();
  await busyboxImage(engine);
  manager = recordingManager(engine, labels).manager;
});

afterAll(async () => {
  manager?.close();
  await sweep(engine, labels);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** An app that copies /data/count (+1) and /run/secret.conf into its web root at boot. */
function counterApp(): string {
  return writeAppDir({
    Containerfile: [
      `FROM ${BUSYBOX_IMAGE}`,
      "EXPOSE 8080",
      `CMD ["/bin/sh", "-c", "n=$(cat /data/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/count; mkdir -p /tmp/www; echo up > /tmp/www/index.html; cp /data/count /tmp/www/count; cp /run/secret.conf /tmp/www/secret 2>/dev/null; touch /run/secret.conf 2>/dev/null && echo writable > /tmp/www/ro || echo readonly > /tmp/www/ro; exec httpd -f -p 8080 -h /tmp/www"]`,
      "",
    ].join("\n"),
    "secret.conf.tmpl": "password={{ .params.DB_PASSWORD }}\n",
  });
}

test("a named volume outlives its container; a secret template is rendered and mounted read-only; options apply", async () => {
  const dir = counterApp();
  dirs.push(dir);
  const id = appId("vol");
  const spec = buildSpec(id, dir, {
    env: { PORT: "8080", DB_PASSWORD: "s3cret" },
    volumes: [
      { kind: "named", name: "data", target: "/data", readOnly: false },
      { kind: "secret", templatePath: "secret.conf.tmpl", target: "/run/secret.conf" },
    ],
    options: { memory: "64m", "pids-limit": "50" },
  });
  const app = await manager.add(spec);
  const url = await app.ensureReady();
  expect((await getText(url + "/count")).body).toBe("1\n");
  expect((await getText(url + "/secret")).body).toBe("password=s3cret\n");
  expect((await getText(url + "/ro")).body).toBe("readonly\n");
  const vols = await engine.listVolumes([`${LABEL_APP}=${id}`]);
  expect(vols.map((v) => v.name)).toEqual([expect.stringMatching(/^clv-app_tst_vol_.*-[0-9a-f]{16}$/)]);

  // A changed env makes a new container (new hash); the named volume carries the count over.
  const app2 = await manager.add({ ...spec, env: { ...spec.env, EXTRA: "1" } });
  expect(app2).toBe(app);
  const url2 = await app.ensureReady();
  expect((await getText(url2 + "/count")).body).toBe("2\n");
  // The engine under test answers its own inspect (Docker's socket or Podman's), so these hold for both.
  expect(engine.endpoint).toStartWith("unix://");
  const inspect = (await fetch(`http://engine/containers/${app.currentContainerId}/json`, { unix: engine.endpoint.slice("unix://".length) } as RequestInit).then((r) =>
    r.json(),
  )) as { HostConfig: Record<string, any> };
  expect(inspect.HostConfig.Memory).toBe(64 * 1024 * 1024);
  expect(inspect.HostConfig.PidsLimit).toBe(50);
  expect(inspect.HostConfig.Init).toBe(true);
  expect(inspect.HostConfig.PortBindings["8080/tcp"]).toEqual([{ HostIp: "127.0.0.1", HostPort: expect.stringMatching(/^\d*$/) }]);
  await manager.remove(id, { volumes: true });
  expect((await engine.listVolumes([`${LABEL_APP}=${id}`])).length).toBe(0);
  expect((await engine.listContainers([`${LABEL_APP}=${id}`], true)).length).toBe(0);
}, 60_000);

test("listing volumes by several labels matches all of them (Podman's API alone would match any)", async () => {
  const [a, b] = [appId("vol-a"), appId("vol-b")];
  const shared = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  await engine.createVolume(`clace-lite-test-${a}`, { ...labels, [LABEL_APP]: a });
  await engine.createVolume(`clace-lite-test-${b}`, { ...labels, [LABEL_APP]: b });
  try {
    const names = (await engine.listVolumes([...shared, `${LABEL_APP}=${a}`])).map((v) => v.name);
    expect(names).toEqual([`clace-lite-test-${a}`]);
    const containers = await engine.listContainers([...shared, `${LABEL_APP}=${a}`], true);
    expect(containers).toEqual([]);
  } finally {
    await engine.removeVolume(`clace-lite-test-${a}`);
    await engine.removeVolume(`clace-lite-test-${b}`);
  }
});
