import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderSpecsBundle } from "../../scripts/gen-specs.ts";
import { listSpecs, readSpec, specDir } from "../../src/runtime/specs.ts";

const root = join(import.meta.dir, "..", "..");

describe("bundled specs", () => {
  test("the embedded bundle matches the specs folder (run scripts/gen-specs.ts after editing a spec)", () => {
    expect(readFileSync(join(root, "src", "runtime", "specs-bundle.ts"), "utf8")).toBe(renderSpecsBundle());
  });

  test("every spec Clace users rely on is there", () => {
    const names = listSpecs().map((s) => s.name);
    for (const n of [
      "container",
      "image",
      "proxy",
      "python-flask",
      "python-wsgi",
      "python-asgi",
      "python-fasthtml",
      "python-streamlit",
      "python-gradio",
      "python-nicegui",
      "python-streamlit-poetry",
      "go",
    ]) {
      expect(names).toContain(n);
    }
  });

  test("containerfiles avoid BuildKit-only syntax (heredocs, RUN --mount, # syntax=)", () => {
    for (const s of listSpecs()) {
      for (const f of s.files.filter((f) => /^(Containerfile|Dockerfile)/.test(f))) {
        const text = readSpec(s.name).contents[f]!;
        expect(text).not.toMatch(/<<-?\s*['"]?[A-Z]+/);
        expect(text).not.toMatch(/--mount=/);
        expect(text).not.toMatch(/^#\s*syntax=/m);
      }
    }
  });

  test("an unknown spec names the known ones", () => {
    expect(() => readSpec("rails")).toThrow('unknown spec "rails"');
  });

  test("a spec's folder on disk has exactly its files", () => {
    const dir = specDir(readSpec("python-streamlit"));
    const onDisk = readdirSync(dir).sort();
    expect(onDisk).toEqual([...readSpec("python-streamlit").files]);
    expect(statSync(join(dir, "start.sh")).mode & 0o111).not.toBe(0);
    expect(specDir(readSpec("python-streamlit"))).toBe(dir);
  });
});

describe("Clace's other specs", () => {
  test("python-streamlit-poetry: Streamlit on 8501 under the app path, installed with Poetry, the secrets template mounted", () => {
    const s = readSpec("python-streamlit-poetry");
    expect(s.files).toEqual(["Containerfile", "app.star", "params.star", "secrets.toml.tmpl", "start.sh"]);
    expect(s.contents.Containerfile).toContain("poetry install");
    expect(s.contents["start.sh"]).toContain("/opt/poetry/bin/poetry");
    expect(s.contents["app.star"]).toContain("strip_app=False");
    expect(s.contents["app.star"]).toContain("cl_secret:secrets.toml.tmpl:/app/.streamlit/secrets.toml");
  });

  test("the go spec takes Clace's build args; python-gradio runs as a non-root user", () => {
    const go = readSpec("go").contents.Containerfile!;
    for (const arg of ["APP_NAME", "BUILD_FLAGS", "GOOS", "GOARCH", "MAIN_PACKAGE"]) expect(go).toContain(`ARG ${arg}`);
    expect(readSpec("python-gradio").contents.Containerfile).toMatch(/^USER appuser$/m);
  });

  test("image-cmd is named with the reason it is not provided", () => {
    expect(() => readSpec("image-cmd")).toThrow('spec "image-cmd" is not provided: it is a Clace action app');
  });
});

describe("custom specs under $CL_HOME/config/appspecs", () => {
  const withHome = (fn: (home: string) => void) => {
    const home = mkdtempSync(join(tmpdir(), "clace-lite-home-"));
    const saved = process.env.CL_HOME;
    process.env.CL_HOME = home;
    try {
      fn(home);
    } finally {
      if (saved === undefined) delete process.env.CL_HOME;
      else process.env.CL_HOME = saved;
      rmSync(home, { recursive: true, force: true });
    }
  };

  test("a folder adds a spec, or replaces the bundled one of its name as a whole", () => {
    withHome((home) => {
      const dir = join(home, "config", "appspecs");
      mkdirSync(join(dir, "mine", "conf"), { recursive: true });
      writeFileSync(join(dir, "mine", "app.star"), "# mine\n");
      writeFileSync(join(dir, "mine", "conf", "x.toml"), "a = 1\n");
      mkdirSync(join(dir, "python-flask"));
      writeFileSync(join(dir, "python-flask", "app.star"), "# my flask\n");
      const mine = readSpec("mine");
      expect(mine).toMatchObject({ origin: "custom", files: ["app.star", "conf/x.toml"] });
      expect(readSpec("python-flask")).toMatchObject({ origin: "custom", files: ["app.star"], contents: { "app.star": "# my flask\n" } });
      const listed = listSpecs();
      expect(listed.find((s) => s.name === "mine")?.origin).toBe("custom");
      expect(listed.find((s) => s.name === "python-flask")?.origin).toBe("custom");
      expect(listed.find((s) => s.name === "go")?.origin).toBe("bundled");
      expect(() => readSpec("nope")).toThrow(/unknown spec "nope"/);
      try {
        readSpec("nope");
      } catch (e) {
        expect((e as { fix: string }).fix).toContain("mine");
        expect((e as { fix: string }).fix).toContain(join(dir, "nope"));
      }
    });
  });

  test("a symbolic link in a custom spec is refused, naming it", () => {
    withHome((home) => {
      const dir = join(home, "config", "appspecs", "linked");
      mkdirSync(dir, { recursive: true });
      symlinkSync("/etc/hostname", join(dir, "app.star"));
      expect(() => readSpec("linked")).toThrow(`custom spec file ${join(dir, "app.star")} is not a regular file`);
    });
  });

  test("an app created with a custom spec loads its files", async () => {
    const { loadApp } = await import("../../src/runtime/loader.ts");
    withHome((home) => {
      const dir = join(home, "config", "appspecs", "fixed-proxy");
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, "app.star"),
        'load("proxy.in", "proxy")\napp = ace.app("custom", routes=[ace.proxy("/", proxy.config("http://127.0.0.1:9"))], permissions=[ace.permission("proxy.in", "config", ["http://127.0.0.1:9"])])\n',
      );
      const cfg = loadApp({ source: null, spec: "fixed-proxy", approved: "all-audited" });
      expect(cfg.name).toBe("custom");
      expect(cfg.routes[0]!.url).toBe("http://127.0.0.1:9");
    });
  });
});
