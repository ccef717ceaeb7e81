/**
 * Confinement: a file an app's config reads must really be inside the app folder. A symbolic link inside the app
 * is followed; one that leads out of it is an error naming the link, wherever the file is read from.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectContext } from "../../src/containers/context.ts";
import { planVolumes } from "../../src/containers/volumes.ts";
import { EngineError } from "../../src/containers/engine.ts";
import { loadApp } from "../../src/runtime/loader.ts";
import { materializeSource } from "../../src/runtime/registry/sources.ts";
import { cleanupApps, makeApp, PROXY_APP_HEAD, runtimeError } from "./helpers.ts";

const outside: string[] = [];
afterEach(() => {
  cleanupApps();
  for (const dir of outside.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const APP = (extra = "", volumes = "[]") => `${PROXY_APP_HEAD}${extra}
app = ace.app("c",
    routes = [ace.proxy("/", proxy.config(container.URL))],
    container = container.config(container.AUTO, port = 8080, volumes = ${volumes}),
    permissions = [
        ace.permission("proxy.in", "config", [container.URL]),
        ace.permission("container.in", "config", [container.AUTO]),
    ],
)
`;

/** An outside file standing in for /etc/shadow (tests must not depend on the host's own secrets). */
function outsideFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "clace-lite-outside-"));
  outside.push(dir);
  const file = join(dir, "shadow");
  writeFileSync(file, text);
  return file;
}

const load = (dir: string) => loadApp({ source: dir, approved: "all-audited" });

describe("files read by the config stay inside the app folder", () => {
  test("load() of a .star file that links out of the app is refused at the load statement, naming the link", () => {
    const secret = outsideFile('x = "root:$6$hash"\n');
    const dir = makeApp({ "app.star": APP('load("evil.star", "x")\n'), Containerfile: "FROM scratch\n" });
    symlinkSync(secret, join(dir, "evil.star"));
    const err = runtimeError(() => load(dir));
    expect(err.kind).toBe("source");
    expect(err.message).toContain(`the symbolic link evil.star -> ${secret}`);
    expect(err.message).toContain("outside the app folder");
    expect(err.where).toMatch(/^app\.star:3:\d+$/);
    expect(err.fix).toContain("replace evil.star");
  });

  test("a cl_secret template linked out of the app is refused, naming the link", () => {
    const secret = outsideFile("root:$6$hash\n");
    const dir = makeApp({ "app.star": APP("", '["cl_secret:innocent.tmpl:/www/secret.txt"]'), Containerfile: "FROM scratch\n" });
    symlinkSync(secret, join(dir, "innocent.tmpl"));
    const err = runtimeError(() => load(dir));
    expect(err.message).toContain(`innocent.tmpl -> ${secret}`);
  });

  test("params.star and the Containerfile linked out of the app are refused", () => {
    const params = outsideFile('param("x", default="y")\n');
    const dir1 = makeApp({ "app.star": APP(), Containerfile: "FROM scratch\n" });
    symlinkSync(params, join(dir1, "params.star"));
    expect(runtimeError(() => load(dir1)).message).toContain(`params.star -> ${params}`);

    const containerfile = outsideFile("FROM scratch\nEXPOSE 80\n");
    const dir2 = makeApp({ "app.star": APP() });
    symlinkSync(containerfile, join(dir2, "Containerfile"));
    expect(runtimeError(() => load(dir2)).message).toContain(`Containerfile -> ${containerfile}`);
  });

  test("a linked folder on the way out is the link named", () => {
    const outside = outsideFile('y = 1\n');
    const dir = makeApp({ "app.star": APP('load("lib/shadow.star", "y")\n'), Containerfile: "FROM scratch\n" });
    symlinkSync(join(outside, ".."), join(dir, "lib"));
    writeFileSync(join(outside, "..", "shadow.star"), "y = 1\n");
    expect(runtimeError(() => load(dir)).message).toContain("the symbolic link lib -> ");
  });

  test("links that stay inside the app are followed", () => {
    const dir = makeApp({ "app.star": APP('load("lib.star", "y")\n'), "real/lib.star": "y = 1\n", Containerfile: "FROM scratch\n" });
    symlinkSync("real/lib.star", join(dir, "lib.star"));
    expect(load(dir).name).toBe("c");
  });
});

describe("symlinks in sources and build contexts", () => {
  test("a copied source keeps its links verbatim, so they stay relative to the copy", async () => {
    const dir = makeApp({ "app.star": APP(), "real.txt": "x" });
    symlinkSync("real.txt", join(dir, "alias.txt"));
    const store = mkdtempSync(join(tmpdir(), "clace-lite-store-"));
    try {
      const { dir: copy } = await materializeSource({ source: dir }, join(store, "source"));
      expect(readlinkSync(join(copy!, "alias.txt"))).toBe("real.txt");
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
  });

  test("the build context keeps a symlink as a symlink (its target is not read)", () => {
    const secret = outsideFile("not for the image\n");
    const dir = makeApp({ Containerfile: "FROM scratch\n" });
    symlinkSync(secret, join(dir, "leak"));
    const ctx = collectContext([dir], "Containerfile");
    const leak = ctx.files.find((f) => f.path === "leak")!;
    expect(leak.linkTarget).toBe(secret);
  });

  test("a secret template replaced by a link after loading is refused when the container is planned", () => {
    const dir = makeApp({ "app.star": APP("", '["cl_secret:t.tmpl:/www/t"]'), "t.tmpl": "ok\n", Containerfile: "FROM scratch\n" });
    const spec = load(dir).container!;
    rmSync(join(dir, "t.tmpl"));
    symlinkSync(outsideFile("secret\n"), join(dir, "t.tmpl"));
    const run = mkdtempSync(join(tmpdir(), "clace-lite-run-"));
    mkdirSync(run, { recursive: true });
    try {
      let err: unknown;
      try {
        planVolumes(spec, run);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(EngineError);
      expect((err as Error).message).toContain("symbolic link");
    } finally {
      rmSync(run, { recursive: true, force: true });
    }
  });
});
