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
  const devices = hc.Devices as { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[];
  expect(devices.map((d) => [d.PathOnHost, d.PathInContainer])).toEqual([["/dev/null", "/dev/extra-null"]]);
  // Docker reports the permissions it was given (rwm); Podman's compat API leaves them empty.
  expect(["rwm", ""]).toContain(devices[0]!.CgroupPermissions);
  // Docker keeps "private"; Podman reports its private namespace as "shareable".
  expect(["private", "shareable"]).toContain(String(hc.IpcMode));
}, 60_000);

test("the mapping of privileged and cap-add", () => {
  expect(mapOptions({ privileged: "" }).hostConfig.Privileged).toBe(true);
  expect(mapOptions({ privileged: "false" }).hostConfig.Privileged).toBe(false);
  expect(mapOptions({ "cap-add": "NET_ADMIN,SYS_TIME" }).hostConfig.CapAdd).toEqual(["NET_ADMIN", "SYS_TIME"]);
});

test("name resolution, host name, labels, limits and security options reach the engine, and the app sees them", async () => {
  const dir = busyboxApp({
    containerfile: [
      "FROM clace-lite-test/busybox:1",
      "EXPOSE 8080",
      `CMD ["/bin/sh", "-c", "mkdir -p /www && echo up > /www/index.html && cat /etc/hosts > /www/hosts && hostname > /www/hostname && ulimit -n > /www/nofile && exec httpd -f -p 8080 -h /www"]`,
      "",
    ].join("\n"),
  });
  dirs.push(dir);
  const app = await manager.add(
    buildSpec(appId("copts"), dir, {
      options: {
        "add-host": "db.internal:192.0.2.3,cache.internal:192.0.2.4",
        dns: "127.0.0.53",
        "dns-search": "example.internal",
        hostname: "copt-app",
        label: "team=web,tier",
        ulimit: "nofile=2048:4096",
        "security-opt": "no-new-privileges",
        "stop-signal": "SIGINT",
        "oom-score-adj": "100",
      },
    }),
  );
  const url = await app.ensureReady();
  expect((await getText(url + "/hosts")).body).toMatch(/192\.0\.2\.3\s+db\.internal/);
  expect((await getText(url + "/hosts")).body).toMatch(/192\.0\.2\.4\s+cache\.internal/);
  expect((await getText(url + "/hostname")).body).toBe("copt-app\n");
  expect((await getText(url + "/nofile")).body).toBe("2048\n");
  const hc = await hostConfig(app.currentContainerId!);
  expect(hc.Dns).toEqual(["127.0.0.53"]);
  expect(hc.DnsSearch).toEqual(["example.internal"]);
  expect(hc.SecurityOpt).toEqual(["no-new-privileges"]);
  expect(hc.OomScoreAdj).toBe(100);
  // The engine default for nproc stays; nofile is the option's.
  // Podman's inspect names them RLIMIT_NOFILE, Docker's nofile.
  const ulimits = (hc.Ulimits as { Name: string; Soft: number; Hard: number }[]).map((u) => ({ ...u, Name: u.Name.toLowerCase().replace(/^rlimit_/, "") }));
  expect(ulimits).toEqual(expect.arrayContaining([{ Name: "nofile", Soft: 2048, Hard: 4096 }, { Name: "nproc", Soft: 4096, Hard: 4096 }]));
  const info = await engine.inspectContainer(app.currentContainerId!);
  expect(info?.labels).toMatchObject({ team: "web", tier: "", "dev.clace-lite.app": expect.any(String) });
}, 60_000);

test("each new option is validated where it is given, naming the value and what is expected", () => {
  const bad: [Record<string, string>, string][] = [
    [{ "add-host": "db" }, "add-host=db is not valid: expected name:ip"],
    [{ "add-host": "db:not-an-ip" }, "expected name:ip"],
    [{ dns: "dns.example" }, "dns=dns.example is not valid: expected IP addresses"],
    [{ hostname: "bad_host!" }, "expected a host name"],
    [{ ulimit: "nofile=10:5" }, "a soft limit no higher than the hard one"],
    [{ ulimit: "files=10" }, "with a name among core, cpu"],
    [{ gpus: "some" }, "expected all, a count, or device=<ids>"],
    [{ sysctl: "=1" }, "expected name=value"],
    [{ label: "dev.clace-lite.app=x" }, "dev.clace-lite.* labels are clace-lite's own"],
    [{ "oom-score-adj": "5000" }, "from -1000 to 1000"],
    [{ "cpuset-cpus": "a-b" }, "CPUs such as 0-3"],
  ];
  for (const [opt, msg] of bad) expect(() => mapOptions(opt)).toThrow(msg);
  expect(mapOptions({ gpus: "all" }).hostConfig.DeviceRequests).toEqual([{ Driver: "", Capabilities: [["gpu"]], Count: -1 }]);
  expect(mapOptions({ gpus: "device=0,1" }).hostConfig.DeviceRequests).toEqual([{ Driver: "", Capabilities: [["gpu"]], DeviceIDs: ["0", "1"] }]);
  expect(mapOptions({ sysctl: "net.core.somaxconn=1024" }).hostConfig.Sysctls).toEqual({ "net.core.somaxconn": "1024" });
  expect(mapOptions({ "add-host": "gw:host-gateway" }).hostConfig.ExtraHosts).toEqual(["gw:host-gateway"]);
  // Refused on purpose, with the reason; anything else lists what is supported.
  expect(() => mapOptions({ restart: "always" })).toThrow("an engine restart policy would undo idle stops");
  try {
    mapOptions({ "no-such": "1" });
  } catch (e) {
    for (const name of ["add-host", "dns", "ulimit", "label", "gpus", "tmpfs", "shm-size", "device"]) expect((e as { fix: string }).fix).toContain(name);
  }
});
