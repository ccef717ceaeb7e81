/**
 * The specs whose frameworks Debian does not package (streamlit, gradio, nicegui, fasthtml): their Containerfiles
 * build unchanged FROM the offline stand-in python image, the install step included (run against a requirements.txt
 * the stand-in satisfies, since the framework itself needs a package index), and `clace-lite config` gives the
 * routes, health path and port each framework needs at the root and at a sub path.
 *
 * FastHTML runs on uvicorn like python-asgi, so it also serves a plain ASGI app end to end.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { collectContext, contextTar, type ContainerEngine } from "../../src/containers/index.ts";
import { CONTAINER_URL, readSpec, specDir } from "../../src/runtime/index.ts";
import { runCli } from "../cli/helpers.ts";
import { suiteLabels, sweep, testEngine } from "../fixtures/engine.ts";
import { specBaseImages } from "../fixtures/spec-bases.ts";
import { ASGI_APP } from "./apps.ts";
import { appDir, checkAtRoot, removeAppDirs, SpecServer, takeColdStartTable } from "./helpers.ts";

const labels = suiteLabels("spec-frameworks");
const server = new SpecServer();
let engine: ContainerEngine;

beforeAll(async () => {
  engine = await testEngine();
  await specBaseImages(engine);
  await server.start();
}, 600_000);

afterAll(async () => {
  await server.stop();
  await sweep(engine, labels);
  removeAppDirs();
  console.log(takeColdStartTable());
});

interface Expected {
  spec: string;
  /** The package in the spec's requirements.txt that only a package index has. */
  framework: string;
  port: number;
  /** The health path at the root; apps that keep their path (strip_app=False) answer it under the sub path. */
  health: string;
  stripApp: boolean;
}

const frameworks: Expected[] = [
  { spec: "python-streamlit", framework: "streamlit", port: 8501, health: "/_stcore/health", stripApp: false },
  { spec: "python-gradio", framework: "gradio", port: 7860, health: "/", stripApp: true },
  { spec: "python-nicegui", framework: "nicegui", port: 8080, health: "/", stripApp: true },
  { spec: "python-fasthtml", framework: "python-fasthtml", port: 5000, health: "/", stripApp: true },
];

interface ConfigJson {
  path: string;
  routes: { path: string; url: string; stripApp: boolean }[];
  container: { port: number; healthPath: string; env: Record<string, string> };
}

/** The user an image runs as, from the engine's own view of it (the Engine API over its socket). */
async function imageUser(ref: string): Promise<string> {
  const ep = engine.endpoint;
  const path = `/images/${encodeURIComponent(ref)}/json`;
  const res = ep.startsWith("unix://") ? await fetch(`http://engine${path}`, { unix: ep.slice("unix://".length) }) : await fetch(`${ep.replace(/^tcp:/, "http:")}${path}`);
  return ((await res.json()) as { Config: { User?: string } }).Config.User ?? "";
}

async function config(spec: string, path: string): Promise<ConfigJson> {
  const result = await runCli(["config", "-", "--spec", spec, "--path", path, "--json"]);
  if (result.code !== 0) throw new Error(`clace-lite config --spec ${spec} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as ConfigJson;
}

for (const f of frameworks) {
  describe(f.spec, () => {
    test("config: one route to the container, its port, and its health path at the root and at a sub path", async () => {
      for (const [path, appPath] of [["/", ""], ["/sub/app", "/sub/app"]] as const) {
        const cfg = await config(f.spec, path);
        expect(cfg.routes).toEqual([expect.objectContaining({ path: "/", url: CONTAINER_URL, stripApp: f.stripApp })]);
        expect(cfg.container.port).toBe(f.port);
        expect(cfg.container.healthPath).toBe(f.stripApp ? f.health : appPath + f.health);
        expect(cfg.container.env.CL_APP_PATH).toBe(appPath);
        expect(cfg.container.env.PORT).toBe(String(f.port));
      }
    });

    test("the Containerfile builds FROM the stand-in base, its install step included", async () => {
      // The spec's own requirements name the framework, which only a package index has.
      expect(readSpec(f.spec).contents["requirements.txt"]!.split("\n")).toContain(f.framework);
      // Named per spec and run, so the engine's layer cache cannot skip the install step.
      const source = appDir({ "requirements.txt": `# ${f.spec} (${process.pid}): the stand-in base has these; the framework needs an index\nflask\n` });
      const lines: string[] = [];
      const tag = `clace-lite-test/spec-build-${f.spec}:${process.pid}`;
      await engine.build({
        context: contextTar(collectContext([specDir(readSpec(f.spec)), source], "Containerfile")),
        tag,
        containerFile: "Containerfile",
        labels,
        onLine: (line) => lines.push(line),
      });
      const log = lines.join("\n");
      expect(log).toMatch(/RUN pip install/);
      expect(log).toMatch(/Requirement already satisfied: flask/i);
      expect(log).toMatch(/Successfully tagged/);
      // Clace's gradio spec runs the app as a non-root user; so does this one.
      if (f.spec === "python-gradio") expect(await imageUser(tag)).toBe("appuser");
    });
  });
}

describe("python-fasthtml serves a plain ASGI app (its runtime is uvicorn, as for python-asgi)", () => {
  const source = () => appDir({ "app.py": ASGI_APP, "requirements.txt": "# a plain ASGI callable needs only uvicorn\n" });

  test("at / with links at the root", async () => {
    await checkAtRoot({ spec: "python-fasthtml", source: source(), expectBody: 'href="/items/7"' });
  });

  test("at a sub path with links under it", async () => {
    const first = await server.create({ spec: "python-fasthtml", source: source(), path: "/fast" });
    expect(first).toMatchObject({ status: 200, body: 'index; next: <a href="/fast/items/7">item</a>\n' });
    expect(await server.get("/fast/items/7")).toMatchObject({ status: 200, body: "item 7 under '/fast'\n" });
  });
});
