import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppStore, EMPTY_METADATA } from "../../../src/runtime/registry/store.ts";
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
