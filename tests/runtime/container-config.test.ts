import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_CONTAINER_SETTINGS } from "../../src/containers/spec.ts";
import { CONTAINER_URL, type ProxyRoute } from "../../src/runtime/app-config.ts";
import { buildContainerSpec, findAutoContainerfile, type ContainerInputs } from "../../src/runtime/container-config.ts";
import { AppFiles } from "../../src/runtime/files.ts";
import type { ContainerConfigDecl } from "../../src/runtime/session.ts";
import { readSpec, specDir } from "../../src/runtime/specs.ts";

const dirs: string[] = [];
function appDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "clace-lite-cc-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const decl = (over: Partial<ContainerConfigDecl> = {}): ContainerConfigDecl => ({
  src: "auto",
  port: 0,
  scheme: "http",
  health: "/",
  lifetime: "app",
  buildDir: "",
  volumes: [],
  cargs: {},
  ...over,
});
const route = (over: Partial<ProxyRoute> = {}): ProxyRoute => ({
  path: "/",
  url: CONTAINER_URL,
  stripPath: "",
  preserveHost: false,
  stripApp: true,
  responseHeaders: {},
  ...over,
});
const inputs = (files: AppFiles, over: Partial<ContainerInputs> = {}): ContainerInputs => ({
  appId: "app_test",
  appName: "/x",
  appPath: "/x",
  files,
  params: [],
  routes: [route()],
  settings: DEFAULT_CONTAINER_SETTINGS,
  cargs: {},
  cvols: [],
  copts: {},
  ...over,
});

describe("src=auto", () => {
  test("Containerfile before Dockerfile, and the source's before the spec's", () => {
    const flask = readSpec("python-flask");
    expect(findAutoContainerfile(new AppFiles(appDir({ Dockerfile: "FROM x" }), flask), "")).toBe("Dockerfile");
    expect(findAutoContainerfile(new AppFiles(appDir({ Dockerfile: "FROM x", Containerfile: "FROM y" }), null), "")).toBe(
      "Containerfile",
    );
    expect(findAutoContainerfile(new AppFiles(appDir({}), flask), "")).toBe("Containerfile");
    expect(findAutoContainerfile(new AppFiles(appDir({}), null), "")).toBeNull();
  });

  test("an app folder's own Containerfile overrides the spec's (its EXPOSE decides the port)", () => {
    const dir = appDir({ Containerfile: "FROM busybox\nEXPOSE 9000\n" });
    const spec = buildContainerSpec(decl(), inputs(new AppFiles(dir, readSpec("python-wsgi"))));
    expect(spec.port).toBe(9000);
    expect(spec.image).toEqual({
      kind: "build",
      contextDirs: [specDir(readSpec("python-wsgi")), dir],
      containerFile: "Containerfile",
      buildArgs: {},
    });
  });

  test("the spec's Containerfile is used when the source has none", () => {
    const spec = buildContainerSpec(decl(), inputs(new AppFiles(appDir({ "app.py": "" }), readSpec("python-wsgi"))));
    expect(spec.port).toBe(8000);
  });

  test("no container file at all is a clear error", () => {
    expect(() => buildContainerSpec(decl(), inputs(new AppFiles(appDir({}), null)))).toThrow(
      "container.config: a Containerfile or Dockerfile was not found in the app source",
    );
  });

  test("no port anywhere says to add EXPOSE or port", () => {
    const files = new AppFiles(appDir({ Containerfile: "FROM busybox\nEXPOSE $PORT\n" }), null);
    try {
      buildContainerSpec(decl(), inputs(files));
      throw new Error("expected an error");
    } catch (e) {
      const err = e as { message: string; fix: string };
      expect(err.message).toContain("the container port is not known: Containerfile has no numeric EXPOSE");
      expect(err.message).toContain('EXPOSE "$PORT" is not a plain port number');
      expect(err.fix).toContain("add `EXPOSE <port>`");
    }
    // lifetime=command needs no port
    expect(buildContainerSpec(decl({ lifetime: "command" }), inputs(files)).port).toBe(0);
  });

  test("an explicit port beats EXPOSE; a named container file is used as is", () => {
    const files = new AppFiles(appDir({ "Dockerfile.prod": "FROM busybox\nEXPOSE 80\n" }), null);
    const spec = buildContainerSpec(decl({ src: "Dockerfile.prod", port: 8080 }), inputs(files));
    expect(spec.port).toBe(8080);
    expect(spec.image.kind === "build" && spec.image.containerFile).toBe("Dockerfile.prod");
    expect(() => buildContainerSpec(decl({ src: "Nope" }), inputs(files))).toThrow('container.config: "Nope" was not found');
  });

  test("build_dir is the build context inside the app", () => {
    const dir = appDir({ "web/Containerfile": "FROM busybox\nEXPOSE 81\n" });
    const spec = buildContainerSpec(decl({ buildDir: "web" }), inputs(new AppFiles(dir, null)));
    expect(spec.image).toMatchObject({ kind: "build", contextDirs: [join(dir, "web")], containerFile: "Containerfile" });
    expect(spec.port).toBe(81);
  });
});

describe("image apps, env, health, volumes, args", () => {
  test("image: runs a prebuilt image and needs a port", () => {
    const files = new AppFiles(null, readSpec("image"));
    expect(buildContainerSpec(decl({ src: "image:nginx:1.27", port: 80 }), inputs(files)).image).toEqual({ kind: "image", ref: "nginx:1.27" });
    expect(() => buildContainerSpec(decl({ src: "image:nginx" }), inputs(files))).toThrow("the container port is not known for image nginx");
    expect(() => buildContainerSpec(decl({ src: "image:" }), inputs(files))).toThrow("names no image");
  });

  test("env has every param but secrets, CL_APP_PATH and PORT", () => {
    const files = new AppFiles(null, null);
    const params = [
      { name: "port", type: "INT" as const, value: 80, description: "", required: false, displayType: "", declared: true },
      { name: "flag", type: "BOOLEAN" as const, value: true, description: "", required: false, displayType: "", declared: true },
      { name: "tags", type: "LIST" as const, value: ["a"], description: "", required: false, displayType: "", declared: true },
      { name: "secrets", type: "LIST" as const, value: [["regex:.*"]], description: "", required: false, displayType: "", declared: true },
      { name: "EXTRA", type: "STRING" as const, value: "x", description: "", required: false, displayType: "", declared: false },
    ];
    const spec = buildContainerSpec(decl({ src: "image:nginx", port: 80 }), inputs(files, { params }));
    expect(spec.env).toEqual({ port: "80", flag: "true", tags: '["a"]', EXTRA: "x", CL_APP_PATH: "/x", PORT: "80" });
    const root = buildContainerSpec(decl({ src: "image:nginx", port: 80 }), inputs(files, { appPath: "/" }));
    expect(root.env.CL_APP_PATH).toBe("");
  });

  test("health: '/' defers to container.health_url; strip_app=False keeps the app path", () => {
    const files = new AppFiles(null, null);
    const d = decl({ src: "image:x", port: 1 });
    expect(buildContainerSpec(d, inputs(files)).healthPath).toBe("/");
    expect(buildContainerSpec(d, inputs(files, { settings: { ...DEFAULT_CONTAINER_SETTINGS, healthUrl: "/hz" } })).healthPath).toBe("/hz");
    expect(buildContainerSpec({ ...d, health: "_stcore/health" }, inputs(files)).healthPath).toBe("/_stcore/health");
    expect(
      buildContainerSpec({ ...d, health: "/_stcore/health" }, inputs(files, { routes: [route({ stripApp: false })] })).healthPath,
    ).toBe("/x/_stcore/health");
  });

  test("--carg overrides cargs; --copt and --cvol are carried; Containerfile VOLUMEs become per-app volumes", () => {
    const dir = appDir({ Containerfile: "FROM busybox\nEXPOSE 80\nVOLUME /data\n" });
    const spec = buildContainerSpec(
      decl({ cargs: { A: "1", B: "2" }, volumes: ["cache:/cache"] }),
      inputs(new AppFiles(dir, null), { cargs: { B: "3" }, copts: { memory: "512m" }, cvols: ["/host:/data:ro"] }),
    );
    expect(spec.image.kind === "build" && spec.image.buildArgs).toEqual({ A: "1", B: "3" });
    expect(spec.options).toEqual({ memory: "512m" });
    expect(spec.volumes).toEqual([
      { kind: "named", name: "cache", target: "/cache", readOnly: false },
      { kind: "bind", hostPath: "/host", target: "/data", readOnly: true },
    ]);
    expect(() => buildContainerSpec(decl(), inputs(new AppFiles(dir, null), { cvols: ["data"] }))).toThrow("--cvol: invalid volume");
  });
});
