/** Routing: the app table (domains, paths, overlaps, live changes) and per-route path/host/header rewriting. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AppTable, createProxyServer, FixedUpstream, MountConflictError, type ProxyServer } from "../../src/proxy/index.ts";
import { FakeUpstream, route, startUpstream } from "./helpers.ts";

describe("AppTable", () => {
  const up = new FixedUpstream("http://127.0.0.1:1");
  const mount = (domain: string, path: string) => ({ domain, path, name: `${domain}:${path}`, routes: [route()], upstream: up });

  test("matches the longest path prefix on segment boundaries", () => {
    const t = new AppTable();
    t.add(mount("", "/a"));
    t.add(mount("", "/ab"));
    t.add(mount("", "/b/c"));
    expect(t.match("localhost", "/a")?.path).toBe("/a");
    expect(t.match("localhost", "/a/x/y")?.path).toBe("/a");
    expect(t.match("localhost", "/ab/")?.path).toBe("/ab");
    expect(t.match("localhost", "/abc")).toBeUndefined();
    expect(t.match("localhost", "/b")).toBeUndefined();
    expect(t.match("localhost", "/b/c/d")?.path).toBe("/b/c");
  });

  test("refuses overlapping apps in one domain, allows them in another", () => {
    const t = new AppTable();
    t.add(mount("", "/a"));
    expect(() => t.add(mount("", "/a/b"))).toThrow(MountConflictError);
    expect(() => t.add(mount("", "/"))).toThrow(/overlaps app localhost:\/a/);
    expect(() => t.add(mount("localhost", "/a"))).toThrow(/already mounted at localhost:\/a/);
    t.add(mount("example.test", "/"));
    t.add(mount("", "/ab"));
    expect(t.list().length).toBe(3);
  });

  test("refuses the server's reserved prefix", () => {
    expect(() => new AppTable().add(mount("", "/_clace_lite"))).toThrow(/reserved/);
  });

  test("Host matching: port ignored, case folded, 127.0.0.1 is localhost, unknown hosts fall back", () => {
    const t = new AppTable();
    t.add(mount("", "/"));
    t.add(mount("app.localhost", "/"));
    t.add(mount("sub.", "/x"));
    expect(t.match("APP.localhost:25222", "/")?.domain).toBe("app.localhost");
    expect(t.match("127.0.0.1:25222", "/")?.domain).toBe("localhost");
    expect(t.match("[::1]:25222", "/")?.domain).toBe("localhost");
    expect(t.match("unknown.example", "/y")?.domain).toBe("localhost");
    expect(t.match(null, "/y")?.domain).toBe("localhost");
    expect(t.match("sub.localhost", "/x/1")?.domain).toBe("sub.localhost");
    // A known domain with no app at the path is a miss, not a fallback.
    expect(t.match("sub.localhost", "/other")).toBeUndefined();
  });

  test("replace swaps an app in place, remove unmounts it", () => {
    const t = new AppTable();
    t.add(mount("", "/a"));
    expect(t.match("localhost", "/a")?.name).toBe(":/a");
    t.replace({ ...mount("", "/a"), name: "v2" });
    expect(t.match("localhost", "/a")?.name).toBe("v2");
    expect(t.remove("", "/a")).toBe(true);
    expect(t.match("localhost", "/a")).toBeUndefined();
    expect(t.remove("", "/a")).toBe(false);
  });
});

describe("routing through the server", () => {
  let up: ReturnType<typeof startUpstream>;
  let other: ReturnType<typeof startUpstream>;
  let proxy: ProxyServer;
  let apps: AppTable;

  beforeAll(() => {
    up = startUpstream();
    other = startUpstream();
    apps = new AppTable();
    const fake = new FakeUpstream(up.url);
    apps.add({ path: "/plain", routes: [route()], upstream: fake });
    apps.add({ path: "/keep", routes: [route({ stripApp: false })], upstream: fake });
    apps.add({ path: "/strip", routes: [route({ stripPath: "/api" })], upstream: fake });
    apps.add({ path: "/nostrip", routes: [route({ stripApp: false, stripPath: "/nostrip/v1" })], upstream: fake });
    apps.add({ path: "/host", routes: [route({ preserveHost: true })], upstream: fake });
    apps.add({ path: "/hdr", routes: [route({ responseHeaders: { "x-served-from": "app at $url", "x-static": "s" } })], upstream: fake });
    apps.add({ path: "/multi", routes: [route(), route({ path: "/ext", url: other.url })], upstream: fake });
    apps.add({ path: "/bare", routes: [route()], upstream: fake, redirectBarePath: true });
    apps.add({ domain: "svc.localhost", path: "/", routes: [route({ url: `${other.url}/base` })], upstream: fake });
    proxy = createProxyServer({ port: 0, apps });
  });
  afterAll(async () => {
    await proxy.stop(true);
    up.server.stop(true);
    other.server.stop(true);
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(proxy.url + path, { headers, redirect: "manual" });
    // The echo upstream answers JSON of any shape.
    const seen: any = res.headers.get("content-type")?.includes("json") ? await res.json() : await res.text();
    return { res, seen };
  };

  test("strip_app (default) removes the app path; the bare path becomes /", async () => {
    expect((await get("/plain/a/b?q=1")).seen.path).toBe("/a/b?q=1");
    expect((await get("/plain")).seen.path).toBe("/");
  });

  test("strip_app=False keeps the app path", async () => {
    expect((await get("/keep/a")).seen.path).toBe("/keep/a");
  });

  test("strip_path removes a prefix after the app path; with strip_app=False from the full path", async () => {
    expect((await get("/strip/api/users")).seen.path).toBe("/users");
    expect((await get("/strip/other")).seen.path).toBe("/other");
    expect((await get("/nostrip/v1/x")).seen.path).toBe("/x");
  });

  test("preserve_host on keeps the client's Host; off gives the upstream's", async () => {
    expect((await get("/host/", { host: "myhost.example:8080" })).seen.host).toBe("myhost.example:8080");
    expect((await get("/plain/", { host: "myhost.example:8080" })).seen.host).toBe(new URL(up.url).host);
  });

  test("response_headers are set, with $url replaced by the request path", async () => {
    const { res } = await get("/hdr/page");
    expect(res.headers.get("x-served-from")).toBe("app at /hdr/page");
    expect(res.headers.get("x-static")).toBe("s");
  });

  test("routes inside an app: longest prefix wins, a fixed url route goes to its own upstream", async () => {
    const a = await get("/multi/ext/thing");
    expect(a.seen.host).toBe(new URL(other.url).host);
    expect(a.seen.path).toBe("/ext/thing");
    const b = await get("/multi/extra");
    expect(b.seen.host).toBe(new URL(up.url).host);
  });

  test("routing by Host: a domain app, with the fixed url's base path prepended", async () => {
    const a = await get("/x", { host: "svc.localhost:1234" });
    expect(a.seen.host).toBe(new URL(other.url).host);
    expect(a.seen.path).toBe("/base/x");
    // Unknown hosts fall back to the default domain.
    expect((await get("/plain/z", { host: "nowhere.test" })).seen.path).toBe("/z");
  });

  test("redirect_bare_path redirects /x to /x/ keeping the query; others proxy /x", async () => {
    const { res } = await get("/bare?a=1");
    expect(res.status).toBe(308);
    expect(res.headers.get("location")).toBe("/bare/?a=1");
    expect((await get("/bare/")).seen.path).toBe("/");
  });

  test("unknown paths answer 404; apps mounted later are served at once", async () => {
    expect((await get("/nothing")).res.status).toBe(404);
    apps.add({ path: "/late", routes: [route()], upstream: new FakeUpstream(up.url) });
    expect((await get("/late/x")).seen.path).toBe("/x");
    apps.remove("", "/late");
    expect((await get("/late/x")).res.status).toBe(404);
  });

  test("own endpoints: health and apps status", async () => {
    const h = await get("/_clace_lite/health");
    expect(h.seen).toEqual({ status: "ok" });
    const s = await get("/_clace_lite/apps");
    const paths = (s.seen.apps as { path: string; domain: string }[]).map((a) => `${a.domain}:${a.path}`);
    expect(paths).toContain("localhost:/plain");
    expect(paths).toContain("svc.localhost:/");
    expect((await get("/_clace_lite/nope")).res.status).toBe(404);
  });
});
