import { describe, expect, test } from "bun:test";
import { mergeVolumes, parseVolume, type VolumeContext } from "../../src/runtime/volumes.ts";

const ctx: VolumeContext = {
  sourceDir: "/src/app",
  findTemplate: (name) => (name === "secrets.toml.tmpl" ? `/src/app/${name}` : null),
  origin: "--cvol",
};

describe("Clace's four volume forms", () => {
  test("bind mounts, with options and relative host paths", () => {
    expect(parseVolume("/data:/var/data", ctx)).toEqual({ kind: "bind", hostPath: "/data", target: "/var/data", readOnly: false });
    expect(parseVolume("/data:/var/data:ro", ctx)).toEqual({ kind: "bind", hostPath: "/data", target: "/var/data", readOnly: true });
    expect(parseVolume("./cfg:/etc/app:ro,z", ctx)).toEqual({ kind: "bind", hostPath: "/src/app/cfg", target: "/etc/app", readOnly: true });
  });

  test("named and unnamed volumes", () => {
    expect(parseVolume("cache:/cache", ctx)).toEqual({ kind: "named", name: "cache", target: "/cache", readOnly: false });
    expect(parseVolume("/var/lib/db", ctx)).toEqual({ kind: "unnamed", target: "/var/lib/db", readOnly: false });
  });

  test("cl_secret templates resolve to a file of the app", () => {
    expect(parseVolume("cl_secret:secrets.toml.tmpl:/app/.streamlit/secrets.toml", ctx)).toEqual({
      kind: "secret",
      templatePath: "/src/app/secrets.toml.tmpl",
      target: "/app/.streamlit/secrets.toml",
    });
    expect(() => parseVolume("cl_secret:missing.tmpl:/x", ctx)).toThrow('the template "missing.tmpl" is not in the app source or its spec');
    expect(() => parseVolume("cl_secret:onlyname", ctx)).toThrow("cl_secret:<template>:<target>");
  });

  test("bad forms say what is wrong and where the string came from", () => {
    expect(() => parseVolume("", ctx)).toThrow("it is empty");
    expect(() => parseVolume("relative", ctx)).toThrow('the target "relative" must be an absolute path');
    expect(() => parseVolume("name:", ctx)).toThrow("the target path inside the container is missing");
    expect(() => parseVolume("/a:/b:rw:x", ctx)).toThrow("too many");
    expect(() => parseVolume("/a:/b:bogus", ctx)).toThrow('unknown option "bogus"');
    expect(() => parseVolume("bad name:/x", ctx)).toThrow("is not a valid volume name");
    expect(() => parseVolume("./x:/y", { ...ctx, sourceDir: null })).toThrow("needs an app source folder");
    let caught: unknown;
    try {
      parseVolume("rel", ctx);
    } catch (e) {
      caught = e;
    }
    // Checked outside the catch, so that nothing thrown fails the test instead of skipping the check.
    expect(caught).toBeInstanceOf(Error);
    expect((caught as Error).message.startsWith("--cvol: ")).toBe(true);
  });

  test("merging keeps one volume per target; later lists win and cl_secret supersedes a plain entry", () => {
    const a = parseVolume("/data", ctx);
    const b = parseVolume("vol:/data", ctx);
    const s = parseVolume("cl_secret:secrets.toml.tmpl:/etc/s.toml", ctx);
    const plain = parseVolume("/etc/s.toml", ctx);
    expect(mergeVolumes([a], [b])).toEqual([b]);
    expect(mergeVolumes([s], [plain])).toEqual([s]);
    expect(mergeVolumes([plain], [s])).toEqual([s]);
  });
});
