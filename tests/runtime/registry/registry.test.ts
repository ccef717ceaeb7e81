import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppStore, EMPTY_METADATA } from "../../../src/runtime/registry/store.ts";
import { materializeSource, parseGitSource } from "../../../src/runtime/registry/sources.ts";
import { AppPathError, compileAppGlob, locationsOverlap, parseAppLocation } from "../../../src/runtime/registry/paths.ts";

describe("app locations", () => {
  test("parses Clace's three forms and folds the default domain", () => {
    expect(parseAppLocation("/x", "localhost")).toEqual({ domain: "", path: "/x" });
    expect(parseAppLocation("example.com:/x/", "localhost")).toEqual({ domain: "example.com", path: "/x" });
    expect(parseAppLocation("nginxapp.localhost:/", "localhost")).toEqual({ domain: "nginxapp.localhost", path: "/" });
    expect(parseAppLocation("sub.:/x", "localhost")).toEqual({ domain: "sub.localhost", path: "/x" });
    expect(parseAppLocation("localhost:/y", "localhost")).toEqual({ domain: "", path: "/y" });
  });

  test("rejects paths without a slash, reserved prefixes and odd segments", () => {
    expect(() => parseAppLocation("x", "localhost")).toThrow(/must start with "\/"/);
    expect(() => parseAppLocation("/_clace_lite/x", "localhost")).toThrow(AppPathError);
    expect(() => parseAppLocation("/a_cl_b", "localhost")).toThrow(/_cl_/);
    expect(() => parseAppLocation("/a b", "localhost")).toThrow(/segment "a b"/);
  });

  test("overlap is by domain and segment prefix", () => {
    const at = (s: string) => parseAppLocation(s, "localhost");
    expect(locationsOverlap(at("/x"), at("/x/y"))).toBe(true);
    expect(locationsOverlap(at("/"), at("/anything"))).toBe(true);
    expect(locationsOverlap(at("/x"), at("/xy"))).toBe(false);
    expect(locationsOverlap(at("a.com:/"), at("/"))).toBe(false);
  });

  test("globs match one segment with *, any with **, everything with all", () => {
    const loc = (s: string) => parseAppLocation(s, "localhost");
    const m = (glob: string, s: string) => compileAppGlob(glob, "localhost")(loc(s));
    expect(m("/x/*", "/x/y")).toBe(true);
    expect(m("/x/*", "/x/y/z")).toBe(false);
    expect(m("/x/**", "/x/y/z")).toBe(true);
    expect(m("/x/**", "/x")).toBe(true);
    expect(m("/x", "a.com:/x")).toBe(false);
    expect(m("*:**", "a.com:/x")).toBe(true);
    expect(m("all", "/q")).toBe(true);
    expect(m("*.localhost:/", "nginxapp.localhost:/")).toBe(true);
  });
});

describe("app store", () => {
  test("persists apps across reopen and refuses a second app at the same place", () => {
    const dir = mkdtempSync(join(tmpdir(), "clace-lite-store-"));
    try {
      const file = join(dir, "clace-lite.db");
      const store = new AppStore(file);
      const base = { domain: "", path: "/a", source: "-", sourceDir: null, spec: "image", dev: false };
      store.insert({ ...base, id: "app_1", metadata: { ...EMPTY_METADATA, params: { image: "nginx" } } });
      expect(() => store.insert({ ...base, id: "app_2", metadata: EMPTY_METADATA })).toThrow();
      store.update("app_1", { metadata: { ...EMPTY_METADATA, params: { image: "busybox" } } });
      store.close();

      const reopened = new AppStore(file);
      const apps = reopened.list();
      expect(apps.map((a) => a.id)).toEqual(["app_1"]);
      expect(apps[0]!.metadata.params).toEqual({ image: "busybox" });
      expect(reopened.findByRoute("", "/a")?.id).toBe("app_1");
      reopened.delete("app_1");
      expect(reopened.list()).toEqual([]);
      reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the insert check runs in the same transaction", () => {
    const store = new AppStore(":memory:");
    const base = { domain: "", source: "-", sourceDir: null, spec: "", dev: false, metadata: EMPTY_METADATA };
    store.insert({ ...base, id: "a", path: "/x" });
    expect(() =>
      store.insert({ ...base, id: "b", path: "/x/y" }, (existing) => {
        if (existing.some((e) => locationsOverlap(e, { domain: "", path: "/x/y" }))) throw new Error("overlaps /x");
      }),
    ).toThrow("overlaps /x");
    expect(store.list().length).toBe(1);
  });
});

describe("app sources", () => {
  test("recognises git sources and their sub folders", () => {
    expect(parseGitSource("github.com/claceio/apps/system/list_files")).toEqual({
      url: "https://github.com/claceio/apps.git",
      subdir: "system/list_files",
    });
    expect(parseGitSource("https://example.com/r.git#app")).toEqual({ url: "https://example.com/r.git", subdir: "app" });
    expect(parseGitSource("-")).toBeNull();
  });

  test("copies a folder so later edits do not leak; clones a local repo at a branch and a commit", async () => {
    const dir = mkdtempSync(join(tmpdir(), "clace-lite-src-"));
    try {
      const app = join(dir, "app");
      const run = (args: string[]) => {
        const r = Bun.spawnSync(["git", ...args], { cwd: app, env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@e", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@e" } });
        if (r.exitCode !== 0) throw new Error(r.stderr.toString());
        return r.stdout.toString().trim();
      };
      await Bun.write(join(app, "app.star"), "v1");
      const copied = await materializeSource({ source: app }, join(dir, "store1"));
      await Bun.write(join(app, "app.star"), "v2");
      expect(await Bun.file(join(copied.dir!, "app.star")).text()).toBe("v1");

      run(["init", "-q", "-b", "main"]);
      run(["add", "."]);
      run(["commit", "-qm", "one"]);
      const first = run(["rev-parse", "HEAD"]);
      run(["checkout", "-qb", "feature"]);
      await Bun.write(join(app, "app.star"), "v3");
      run(["commit", "-qam", "two"]);

      const onBranch = await materializeSource({ source: app, branch: "feature" }, join(dir, "store2"));
      expect(await Bun.file(join(onBranch.dir!, "app.star")).text()).toBe("v3");
      const atCommit = await materializeSource({ source: `file://${app}`, commit: first }, join(dir, "store3"));
      expect(atCommit.commit).toBe(first);
      expect(await Bun.file(join(atCommit.dir!, "app.star")).text()).toBe("v2");
      await expect(materializeSource({ source: app, branch: "nope" }, join(dir, "store4"))).rejects.toThrow(/git clone failed: .*nope/);
      await expect(materializeSource({ source: join(dir, "missing") }, join(dir, "store5"))).rejects.toThrow(/does not exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
