/**
 * The Swarm backend against the real engine: the engine is made a single-node swarm manager here (and left after,
 * when this file made it one), images go through Debian's docker-registry on 127.0.0.1, and the lazy lifecycle runs
 * unchanged on top: 0 → 1 on the first request, one scale-up for many, idle → 0, a reload rolled in place
 * start-first, a killed task replaced, delete removing the service and its images (here and in the registry).
 *
 * On Podman (CLACE_LITE_TEST_ENGINE=podman) there is no Swarm: the backend must refuse, saying why.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  LABEL_APP,
  LABEL_SWARM_VERSION,
  SwarmEngine,
  serviceName,
  swarmState,
  type AppContainers,
  type DockerEngine,
} from "../../src/containers/index.ts";
import { TEST_LABEL, suiteLabels, sweep, testEngine, wantedEngine } from "../fixtures/engine.ts";
import { BUSYBOX_IMAGE, busyboxApp, busyboxImage } from "../fixtures/images.ts";
import { startRegistry, type TestRegistry } from "../fixtures/registry.ts";
import { joinTestSwarm, type TestSwarm } from "../fixtures/swarm.ts";
import { appFolder, CliProcess, runCli, tempHome } from "../cli/helpers.ts";
import { appId, buildSpec, getText, recordingManager, until } from "./helpers.ts";

interface Task {
  ID: string;
  DesiredState: string;
  CreatedAt: string;
  Spec: { ContainerSpec: { Labels?: Record<string, string> } };
  Status: { State: string; Timestamp: string; ContainerStatus?: { ContainerID?: string } };
}
interface Service {
  ID: string;
  Spec: {
    Labels?: Record<string, string>;
    Mode: { Replicated: { Replicas: number } };
    UpdateConfig?: { Order?: string };
    TaskTemplate: { ContainerSpec: { Image: string } };
  };
}

if (wantedEngine() === "podman") {
  test("backend swarm refuses Podman, saying it needs a Docker engine in swarm mode", async () => {
    const engine = await testEngine();
    const err = await SwarmEngine.open(engine).then(
      () => undefined,
      (e: unknown) => e as Error & { kind?: string; fix?: string },
    );
    expect(err?.message).toMatch(/^backend swarm needs a Docker engine in swarm mode: the engine at .* is podman .*which has no Swarm/);
    expect(err?.kind).toBe("config-error");
    expect(err?.fix).toMatch(/backend = "docker"/);
  });
} else {
  describe("swarm backend", () => {
    const labels = suiteLabels("swarm");
    let engine: DockerEngine;
    let swarm: SwarmEngine;
    let testSwarm: TestSwarm;
    let registry: TestRegistry;
    const managers: AppContainers[] = [];
    const dirs: string[] = [];
    /** Apps a `server start` in this file made (labelled with that server's owner, not this suite's label). */
    const serverApps = new Set<string>();
    const ours = (l: Readonly<Record<string, string>>) => l[TEST_LABEL] === labels[TEST_LABEL] || serverApps.has(l[LABEL_APP] ?? "");

    const service = async (id: string): Promise<Service | null> => {
      const { status, json } = await engine.api("GET", `/services/${serviceName(id)}`, {}, [200, 404], "inspect service");
      return status === 404 ? null : (json as Service);
    };
    const tasks = async (svc: Service): Promise<Task[]> =>
      (await engine.api("GET", "/tasks", { query: { filters: JSON.stringify({ service: [svc.ID] }) } }, [200], "tasks")).json as Task[];
    const running = async (svc: Service): Promise<Task[]> => (await tasks(svc)).filter((t) => t.Status.State === "running" && t.DesiredState === "running");

    /** A manager over the Swarm backend whose app is a busybox server answering `index`. */
    const swarmApp = async (name: string, index: string, settings: Parameters<typeof buildSpec>[2] = {}) => {
      const { manager, events } = recordingManager(swarm, labels);
      managers.push(manager);
      await manager.start();
      const dir = busyboxApp({ index });
      dirs.push(dir);
      const id = appId(name);
      const app = await manager.add(buildSpec(id, dir, settings));
      return { manager, events, app, id, dir };
    };

    /** What opening the backend did while the engine was in no swarm (undefined when it already was in one). */
    let outsideSwarm: Error | "opened" | undefined;

    beforeAll(async () => {
      engine = await testEngine();
      if ((await swarmState(engine)).state === "inactive") outsideSwarm = await SwarmEngine.open(engine).then(() => "opened" as const, (e: Error) => e);
      testSwarm = await joinTestSwarm(engine);
      [registry] = await Promise.all([startRegistry(), busyboxImage(engine)]);
      swarm = await SwarmEngine.open(engine, { registry: registry.host });
    }, 60_000);

    afterAll(async () => {
      for (const m of managers) m.close();
      // Only this suite's services (by label), then its images; the swarm is left only if this file made it.
      if (swarm) {
        for (const c of await swarm.listContainers([`${TEST_LABEL}=${labels[TEST_LABEL]}`], true)) await swarm.removeContainer(c.id).catch(() => {});
        for (const id of serverApps) {
          for (const c of await swarm.listContainers([`${LABEL_APP}=${id}`], true)) await swarm.removeContainer(c.id).catch(() => {});
          for (const i of await engine.listImages([`${LABEL_APP}=${id}`])) await swarm.removeImage(i.id, true).catch(() => {});
        }
      }
      if (engine) await sweep(engine, labels);
      await registry?.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      if (testSwarm) await testSwarm.leave(ours);
    }, 90_000);

    test("an engine in no swarm is refused with the command that makes it a manager", () => {
      // Checked when this file found the engine outside a swarm (it then initialised one); a manager is opened.
      if (outsideSwarm === undefined) return void expect(swarm).toBeInstanceOf(SwarmEngine);
      expect(outsideSwarm).toBeInstanceOf(Error);
      const err = outsideSwarm as Error & { fix?: string };
      expect(err.message).toMatch(/^backend swarm needs a Docker engine in swarm mode: the engine at unix:\/\/\S+ is not in a swarm \(state inactive\)/);
      expect(err.fix).toContain("docker swarm init --advertise-addr");
    });

    test("the first request scales the app's service from 0 to 1 and is answered; the image is pinned by digest from the registry", async () => {
      const { app, id } = await swarmApp("first", "first\n");
      expect(await service(id)).toBeNull();
      const url = await app.ensureReady();
      expect(await getText(url)).toEqual({ status: 200, body: "first\n" });

      const svc = (await service(id))!;
      expect(svc.Spec.Mode.Replicated.Replicas).toBe(1);
      expect(svc.Spec.Labels?.[LABEL_APP]).toBe(id);
      // Built here, pushed to the registry, referenced by digest so that any node runs exactly this build.
      const image = svc.Spec.TaskTemplate.ContainerSpec.Image;
      const pinned = new RegExp(`^${registry.host.replace(/\./g, "\\.")}/(cli-[a-z0-9_.-]+)@(sha256:[0-9a-f]{64})$`).exec(image);
      expect(pinned).not.toBeNull();
      const manifest = await fetch(`http://${registry.host}/v2/${pinned![1]}/manifests/${pinned![2]}`, {
        method: "HEAD",
        headers: { Accept: "application/vnd.docker.distribution.manifest.v2+json" },
      });
      expect(manifest.status).toBe(200);

      // The proxy's address is the task's node and its host-mode port.
      const live = await running(svc);
      expect(live).toHaveLength(1);
      const { json } = await engine.api("GET", `/tasks/${live[0]!.ID}`, {}, [200], "task");
      const ports = (json as { Status: { PortStatus: { Ports: { TargetPort: number; PublishedPort: number }[] } } }).Status.PortStatus.Ports;
      expect(url).toBe(`http://127.0.0.1:${ports.find((p) => p.TargetPort === 8080)!.PublishedPort}`);
    }, 90_000);

    test("20 concurrent first requests make one scale-up and one task", async () => {
      const { app, id } = await swarmApp("flight", "flight\n");
      const before = swarm.calls.scaleUp ?? 0;
      const answers = await Promise.all(Array.from({ length: 20 }, async () => getText(await app.ensureReady())));
      expect(answers.every((a) => a.status === 200 && a.body === "flight\n")).toBe(true);
      expect((swarm.calls.scaleUp ?? 0) - before).toBe(1);
      expect(await tasks((await service(id))!)).toHaveLength(1);
    }, 90_000);

    test("an idle app is scaled to 0 replicas, and the next request scales it up again", async () => {
      const { app, id, events } = await swarmApp("idle", "idle\n", { settings: { idleShutdownSecs: 2, idlePauseSecs: 1 } });
      await app.ensureReady();
      await until(() => app.state === "stopped", 15_000, "idle stop");
      // Tasks cannot be paused: said once, and the app is stopped instead.
      expect(events.some((e) => e.type === "pause-unavailable")).toBe(true);
      expect(events.some((e) => e.type === "idle-stop")).toBe(true);
      const svc = (await service(id))!;
      expect(svc.Spec.Mode.Replicated.Replicas).toBe(0);
      expect(await running(svc)).toHaveLength(0);
      expect(await getText(await app.ensureReady())).toEqual({ status: 200, body: "idle\n" });
      expect((await service(id))!.Spec.Mode.Replicated.Replicas).toBe(1);
    }, 90_000);

    test("a reload updates the service in place, start-first: the old task serves until the new one runs", async () => {
      const { manager, app, id, dir } = await swarmApp("reload", "v1\n");
      const oldUrl = await app.ensureReady();
      const before = (await service(id))!;
      const oldTask = (await running(before))[0]!;

      writeFileSync(join(dir, "www/index.html"), "v2\n");
      let done = false;
      const polls: { at: number; body: string }[] = [];
      const polling = (async () => {
        while (!done) {
          const body = await fetch(oldUrl).then((r) => r.text(), () => "refused");
          polls.push({ at: Date.now(), body });
          await Bun.sleep(20);
        }
      })();
      const upgrade = await manager.upgrade(buildSpec(id, dir));
      done = true;
      await polling;
      expect(upgrade.restarted).toBe(true);
      expect(await getText(await upgrade.container.ensureReady())).toEqual({ status: 200, body: "v2\n" });

      // The same service, now at the new version, updated start-first.
      const after = (await service(id))!;
      expect(after.ID).toBe(before.ID);
      expect(after.Spec.Labels?.[LABEL_SWARM_VERSION]).not.toBe(before.Spec.Labels?.[LABEL_SWARM_VERSION]);
      expect(after.Spec.UpdateConfig?.Order).toBe("start-first");
      // The old task answered while the new version was built and started, and was shut down only once the new
      // task ran.
      expect(polls.filter((p) => p.body === "v1\n").length).toBeGreaterThan(0);
      const all = await tasks(after);
      const newTask = all.find((t) => t.Status.State === "running" && t.DesiredState === "running")!;
      expect(all.find((t) => t.ID === oldTask.ID)!.DesiredState).toBe("shutdown");
      let old: Task | undefined;
      await until(async () => ["shutdown", "complete", "failed"].includes((old = (await tasks(after)).find((t) => t.ID === oldTask.ID))?.Status.State ?? ""), 15_000, "the old task to end");
      // Its last state change (the shutdown) came after the new task's (running).
      expect(Date.parse(old!.Status.Timestamp)).toBeGreaterThanOrEqual(Date.parse(newTask.Status.Timestamp));
      expect(all.filter((t) => t.Spec.ContainerSpec.Labels?.[LABEL_SWARM_VERSION] === after.Spec.Labels?.[LABEL_SWARM_VERSION])).toHaveLength(1);
      const refused = polls.filter((p) => p.body === "refused").length;
      console.log(`reload: ${polls.length} requests to the old task during the update, ${refused} refused after it was shut down`);
      // Nothing but the new version's service is left to the app.
      const left = await swarm.listContainers([`${LABEL_APP}=${id}`], true);
      expect(left.map((c) => c.id)).toEqual([after.Spec.Labels![LABEL_SWARM_VERSION]!]);
    }, 120_000);

    test("a reload whose new version fails leaves the service at the old version, which serves again", async () => {
      const { manager, app, id, dir } = await swarmApp("reloadfail", "stable\n");
      const url = await app.ensureReady();
      const before = (await service(id))!;
      // The new version's command exits at once.
      writeFileSync(join(dir, "Containerfile"), `FROM ${BUSYBOX_IMAGE}\nEXPOSE 8080\nCMD ["/bin/busybox", "false"]\n`);
      await expect(manager.upgrade(buildSpec(id, dir))).rejects.toThrow(/exited/);
      expect(manager.get(id)).toBe(app);
      const after = (await service(id))!;
      expect(after.ID).toBe(before.ID);
      expect(after.Spec.Labels?.[LABEL_SWARM_VERSION]).toBe(before.Spec.Labels![LABEL_SWARM_VERSION]!);
      expect(swarm.calls.rollBack ?? 0).toBeGreaterThan(0);
      // Swarm stopped the old task once the new one ran (and died); the rolled-back spec runs again on its port, and
      // the next request is answered by the old version (the lifecycle may have seen the old task end meanwhile).
      const waited = await until(async () => (await getText(url).catch(() => ({ status: 0, body: "" }))).body === "stable\n", 20_000, "the old version to answer again");
      console.log(`failed reload: the old version answered again ${waited} ms after the reload failed`);
      expect(await getText(await app.ensureReady())).toEqual({ status: 200, body: "stable\n" });
      expect((await service(id))!.Spec.Labels?.[LABEL_SWARM_VERSION]).toBe(before.Spec.Labels![LABEL_SWARM_VERSION]!);
    }, 120_000);

    test("logs come from the service's tasks", async () => {
      const { manager, events } = recordingManager(swarm, labels);
      managers.push(manager);
      const dir = busyboxApp({
        index: "logged\n",
        // -v: httpd logs each request.
        containerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-v", "-p", "8080", "-h", "/www"]\n`,
      });
      dirs.push(dir);
      const app = await manager.add(buildSpec(appId("logs"), dir));
      const url = await app.ensureReady();
      // busybox httpd -v logs each answer's status: a 404 stands out from the health checks' 200s.
      expect((await fetch(`${url}/no-such-page`).then(async (r) => (await r.text(), r.status)))).toBe(404);
      await until(async () => (await app.recentLogs(50)).includes("response:404"), 15_000, "the 404 in the service's log");
      expect(events.some((e) => e.type === "ready")).toBe(true);
    }, 90_000);

    test("a killed task is noticed, and the next request runs a new task and is answered", async () => {
      const { app, id, events } = await swarmApp("kill", "killed\n");
      await app.ensureReady();
      const svc = (await service(id))!;
      const [task] = await running(svc);
      await engine.killContainer(task!.Status.ContainerStatus!.ContainerID!);
      await until(() => app.state !== "ready", 15_000, "the crash to be noticed");
      await until(() => events.some((e) => e.type === "crash"), 15_000, "the crash event");
      expect(await getText(await app.ensureReady())).toEqual({ status: 200, body: "killed\n" });
      const [replacement] = await running(svc);
      expect(replacement!.ID).not.toBe(task!.ID);
    }, 90_000);

    test("deleting the app removes its service, its task containers and its images, here and in the registry", async () => {
      const { manager, app, id } = await swarmApp("delete", "gone\n");
      await app.ensureReady();
      const svc = (await service(id))!;
      const pinned = svc.Spec.TaskTemplate.ContainerSpec.Image;
      const [repo, digest] = pinned.slice(registry.host.length + 1).split("@");
      await manager.remove(id);
      expect(await service(id)).toBeNull();
      expect(await engine.listContainers([`com.docker.swarm.service.id=${svc.ID}`], true)).toEqual([]);
      expect(await engine.listImages([`${LABEL_APP}=${id}`])).toEqual([]);
      const manifest = await fetch(`http://${registry.host}/v2/${repo}/manifests/${digest}`, {
        method: "HEAD",
        headers: { Accept: "application/vnd.docker.distribution.manifest.v2+json" },
      });
      expect(manifest.status).toBe(404);
    }, 90_000);

    test("at boot a new manager adopts a running service and removes the services of apps it does not know", async () => {
      const kept = await swarmApp("adopt", "adopted\n");
      await kept.app.ensureReady();
      const stray = await swarmApp("stray", "stray\n");
      await stray.app.ensureReady();
      kept.manager.close();
      stray.manager.close();

      const { manager } = recordingManager(swarm, labels);
      managers.push(manager);
      await manager.start();
      const again = await manager.add(buildSpec(kept.id, kept.dir));
      const result = await manager.reconcile();
      expect(result.adopted).toContain(kept.id);
      expect(again.state).toBe("ready");
      expect(await getText(await again.ensureReady())).toEqual({ status: 200, body: "adopted\n" });
      expect(await service(stray.id)).toBeNull();
      expect((await service(kept.id))!.Spec.Mode.Replicated.Replicas).toBe(1);
    }, 90_000);

    test("server start with [container] backend = \"swarm\" serves, reloads and deletes an app through its service", async () => {
      const home = tempHome();
      dirs.push(home);
      const config = join(home, "server.toml");
      writeFileSync(config, `[container]\nbackend = "swarm"\nregistry = "${registry.host}"\n`);
      const env = { CL_HOME: home };
      const server = new CliProcess(["server", "start", "--config", config, "--port", "0", "--https-port", "off"], env);
      try {
        await server.waitFor(/apps run as Swarm services .*images pushed to 127\.0\.0\.1:\d+/);
        const [, base] = await server.waitFor(/listening on (http:\/\/[\d.]+:\d+)\//);
        const dir = appFolder({
          Containerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
          "www/index.html": "through swarm v1\n",
        });
        dirs.push(dir);
        const created = await runCli(["app", "create", "--spec", "container", "--approve", dir, "/sw"], env);
        expect(created.code).toBe(0);
        const listed = JSON.parse((await runCli(["app", "list", "--format", "json"], env)).stdout) as { id: string; location: string }[];
        const id = listed.find((a) => a.location.endsWith("/sw"))!.id;
        serverApps.add(id);

        expect(await getText(`${base}/sw/`)).toEqual({ status: 200, body: "through swarm v1\n" });
        const first = (await service(id))!;
        expect(first.Spec.Mode.Replicated.Replicas).toBe(1);

        writeFileSync(join(dir, "www/index.html"), "through swarm v2\n");
        const reloaded = await runCli(["app", "reload", "/sw"], env);
        expect(reloaded.code).toBe(0);
        expect(await getText(`${base}/sw/`)).toEqual({ status: 200, body: "through swarm v2\n" });
        expect((await service(id))!.ID).toBe(first.ID);

        expect((await runCli(["app", "delete", "/sw"], env)).code).toBe(0);
        expect(await service(id)).toBeNull();
        expect(await engine.listImages([`${LABEL_APP}=${id}`])).toEqual([]);
      } finally {
        await server.stop();
      }
    }, 120_000);

    test("a config that names an unknown backend, or a registry without backend swarm, is refused", async () => {
      const home = tempHome();
      dirs.push(home);
      const config = join(home, "server.toml");
      writeFileSync(config, `[container]\nbackend = "kubernetes"\n`);
      const bad = await runCli(["server", "start", "--config", config, "--port", "0", "--https-port", "off"], { CL_HOME: home }, 30_000);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain(`${config}:2:1: [container] backend must be "docker" or "swarm", not "kubernetes"`);
      writeFileSync(config, `[container]\nregistry = "127.0.0.1:5000"\n`);
      const orphan = await runCli(["server", "start", "--config", config, "--port", "0", "--https-port", "off"], { CL_HOME: home }, 30_000);
      expect(orphan.stderr).toContain(`[container] registry is used by backend = "swarm" only`);
      writeFileSync(config, `[container]\nbackend = "swarm"\nregistry = "http://127.0.0.1:5000"\n`);
      const url = await runCli(["server", "start", "--config", config, "--port", "0", "--https-port", "off"], { CL_HOME: home }, 30_000);
      expect(url.stderr).toContain(`[container] registry "http://127.0.0.1:5000" is not a host or host:port`);
    }, 60_000);
  });
}
