/** Every bundled spec loads with its documented params, as Clace's appspecs do, with the app.star files unchanged. */
import { afterAll, describe, expect, test } from "bun:test";
import { CONTAINER_URL } from "../../src/runtime/app-config.ts";
import { loadApp } from "../../src/runtime/loader.ts";
import { readSpec, specDir } from "../../src/runtime/specs.ts";
import { cleanupApps, makeApp, runtimeError } from "./helpers.ts";

afterAll(cleanupApps);

const approved = "all-audited" as const;
const commonPerms = (arg: string) => [
  { plugin: "proxy.in", method: "config", arguments: [CONTAINER_URL] },
  { plugin: "container.in", method: "config", arguments: [arg], secrets: [["regex:.*"]] },
];

describe("container spec", () => {
  test("runs the source's Containerfile; port from EXPOSE unless the port param is set", () => {
    const dir = makeApp({ Containerfile: "FROM busybox\nEXPOSE 3000\n" });
    const cfg = loadApp({ source: dir, spec: "container", approved, path: "/c" });
    expect(cfg.name).toBe("Container App");
    expect(cfg.container).toMatchObject({ port: 3000, image: { kind: "build", containerFile: "Containerfile" } });
    expect(cfg.permissions).toEqual(commonPerms("auto"));
    expect(cfg.params.map((p) => [p.name, p.type, p.value])).toEqual([
      ["app_name", "STRING", "Container App"],
      ["port", "INT", 0],
      ["preserve_host", "BOOLEAN", false],
      ["secrets", "LIST", [["regex:.*"]]],
    ]);
    expect(cfg.container!.env).toEqual({ app_name: "Container App", port: "0", preserve_host: "false", CL_APP_PATH: "/c", PORT: "3000" });
    expect(loadApp({ source: dir, spec: "container", approved, params: { port: "4000", preserve_host: "true" } })).toMatchObject({
      container: { port: 4000 },
      routes: [{ preserveHost: true }],
    });
  });

  test("a Dockerfile is found too; no container file at all is a clear error", () => {
    expect(loadApp({ source: makeApp({ Dockerfile: "FROM x\nEXPOSE 81\n" }), spec: "container", approved }).container!.port).toBe(81);
    expect(runtimeError(() => loadApp({ source: makeApp({ "x.txt": "" }), spec: "container", approved })).message).toContain(
      "a Containerfile or Dockerfile was not found in the app source or its spec",
    );
  });
});

describe("image spec", () => {
  test("runs an image with no source", () => {
    const cfg = loadApp({ source: null, spec: "image", approved, params: { image: "nginx:1.27", port: "80" } });
    expect(cfg.name).toBe("Image App");
    expect(cfg.container).toMatchObject({ image: { kind: "image", ref: "nginx:1.27" }, port: 80, env: { image: "nginx:1.27", PORT: "80" } });
    expect(cfg.permissions).toEqual(commonPerms("image:nginx:1.27"));
  });

  test("image and port are required params", () => {
    expect(runtimeError(() => loadApp({ source: null, spec: "image", approved })).message).toBe(
      "param image is a required param, a value has to be provided",
    );
    expect(runtimeError(() => loadApp({ source: null, spec: "image", approved, params: { image: "nginx" } })).message).toBe(
      "param port is a required param, a value has to be provided",
    );
  });
});

describe("proxy spec", () => {
  test("proxies to the url param with its response headers; no container", () => {
    const cfg = loadApp({
      source: null,
      spec: "proxy",
      approved,
      params: { url: "http://127.0.0.1:8080", response_headers: '{"X-A": "1"}' },
    });
    expect(cfg.container).toBeUndefined();
    expect(cfg.routes).toEqual([
      { path: "/", url: "http://127.0.0.1:8080", stripPath: "", preserveHost: false, stripApp: true, responseHeaders: { "X-A": "1" } },
    ]);
    expect(cfg.permissions).toEqual([{ plugin: "proxy.in", method: "config", arguments: ["http://127.0.0.1:8080"] }]);
    expect(cfg.audit.loads).toEqual(["proxy.in"]);
  });

  test("url is required", () => {
    expect(runtimeError(() => loadApp({ source: null, spec: "proxy", approved })).message).toBe(
      "param url is a required param, a value has to be provided",
    );
  });
});

describe("python and go specs", () => {
  const cases: { spec: string; params?: Record<string, string>; port: number; health: string; stripApp: boolean; name: string; extra?: string[] }[] = [
    { spec: "python-flask", port: 5000, health: "/", stripApp: true, name: "Flask App", extra: ["port"] },
    { spec: "python-wsgi", port: 8000, health: "/st/", stripApp: false, name: "WSGI App" },
    { spec: "python-asgi", port: 5000, health: "/", stripApp: true, name: "ASGI App" },
    { spec: "python-fasthtml", port: 5000, health: "/", stripApp: true, name: "FastHTML App" },
    { spec: "python-streamlit", port: 8501, health: "/st/_stcore/health", stripApp: false, name: "Streamlit App", extra: ["port", "app_file"] },
    { spec: "python-gradio", port: 7860, health: "/", stripApp: true, name: "Gradio App", extra: ["app_file"] },
    { spec: "python-nicegui", port: 8080, health: "/", stripApp: true, name: "NiceGUI App", extra: ["port", "app_file"] },
    { spec: "go", params: { port: "8080" }, port: 8080, health: "/", stripApp: true, name: "Go App", extra: ["port"] },
  ];
  for (const c of cases) {
    test(`${c.spec} loads from the spec alone with its documented params`, () => {
      const cfg = loadApp({ source: null, spec: c.spec, approved, path: "/st", params: c.params });
      expect(cfg.name).toBe(c.name);
      expect(cfg.routes).toEqual([
        { path: "/", url: CONTAINER_URL, stripPath: "", preserveHost: false, stripApp: c.stripApp, responseHeaders: {} },
      ]);
      expect(cfg.container).toMatchObject({
        image: { kind: "build", contextDirs: [specDir(readSpec(c.spec))], containerFile: "Containerfile" },
        port: c.port,
        healthPath: c.health,
      });
      expect(cfg.permissions).toEqual(commonPerms("auto"));
      expect(cfg.params.map((p) => p.name).sort()).toEqual(["app_name", "preserve_host", "secrets", ...(c.extra ?? [])].sort());
      expect(cfg.container!.env.CL_APP_PATH).toBe("/st");
      expect(cfg.container!.env.secrets).toBeUndefined();
    });
  }

  test("streamlit renders its secrets template from the spec and passes app_file", () => {
    const cfg = loadApp({ source: null, spec: "python-streamlit", approved, params: { app_file: "hello" } });
    expect(cfg.container!.volumes).toEqual([
      { kind: "secret", templatePath: `${specDir(readSpec("python-streamlit"))}/secrets.toml.tmpl`, target: "/app/.streamlit/secrets.toml" },
    ]);
    expect(cfg.container!.env.app_file).toBe("hello");
  });

  test("go needs its port param", () => {
    expect(runtimeError(() => loadApp({ source: null, spec: "go", approved })).message).toBe(
      "param port is a required param, a value has to be provided",
    );
  });

  test("an app folder with its own Containerfile overrides the spec's; the build context has both", () => {
    const dir = makeApp({ Containerfile: "FROM busybox\nEXPOSE 9999\n", "app.py": "" });
    const cfg = loadApp({ source: dir, spec: "python-wsgi", approved });
    expect(cfg.container).toMatchObject({
      port: 9999,
      image: { kind: "build", contextDirs: [specDir(readSpec("python-wsgi")), dir], containerFile: "Containerfile" },
    });
  });

  test("an app folder's own app.star and params.star override the spec's", () => {
    const dir = makeApp({
      "params.star": 'param("app_name", default="Mine")\nparam("port", type=INT, default=1234)\nparam("preserve_host", type=BOOLEAN, default=True)\nparam("secrets", type=LIST, default=[])\n',
    });
    const cfg = loadApp({ source: dir, spec: "python-flask", approved });
    expect(cfg.name).toBe("Mine");
    expect(cfg.container!.port).toBe(1234);
    expect(cfg.routes[0]!.preserveHost).toBe(true);
  });
});
