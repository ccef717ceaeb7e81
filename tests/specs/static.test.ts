/**
 * The static and static_single specs serve an app folder's files for real, through `clace-lite server` (at a sub
 * path) and `clace-lite serve` (at the root): index files, content types, nested folders, single-page fallback, and
 * nothing outside the folder or of the app's config.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { CliProcess } from "../cli/helpers.ts";
import { appDir, removeAppDirs, SpecServer } from "./helpers.ts";

const server = new SpecServer();

beforeAll(async () => {
  await server.start();
}, 60_000);

afterAll(async () => {
  await server.stop();
  removeAppDirs();
});

const site = () => {
  const dir = appDir({
    "index.html": "<h1>home</h1>\n",
    "style.css": "h1 { color: red }\n",
    "docs/index.htm": "docs index\n",
    "docs/guide.txt": "the guide\n",
    ".env": "SECRET=1\n",
  });
  symlinkSync("/etc/hostname", join(dir, "escape.txt"));
  return dir;
};

describe("static", () => {
  test("serves the folder at a sub path: index, content types, nested folders, 404s, no hidden files or links out", async () => {
    const first = await server.create({ spec: "static", source: site(), path: "/site" });
    expect(first).toMatchObject({ status: 200, body: "<h1>home</h1>\n" });
    expect(first.headers.get("content-type")).toContain("text/html");
    const css = await server.get("/site/style.css");
    expect(css).toMatchObject({ status: 200, body: "h1 { color: red }\n" });
    expect(css.headers.get("content-type")).toContain("text/css");
    expect(await server.get("/site/docs/")).toMatchObject({ status: 200, body: "docs index\n" });
    expect(await server.get("/site/docs/guide.txt")).toMatchObject({ status: 200, body: "the guide\n" });
    for (const path of ["/site/nope.html", "/site/.env", "/site/escape.txt", "/site/app.star", "/site/params.star", "/site/%2e%2e/%2e%2e/etc/passwd"]) {
      expect((await server.get(path)).status).toBe(404);
    }
    const post = await fetch(server.base + "/site/index.html", { method: "POST", body: "x" });
    expect(post.status).toBe(405);
  });

  test("a named index is served at /", async () => {
    const dir = appDir({ "home.html": "named index\n" });
    expect(await server.create({ spec: "static", source: dir, path: "/named", params: { index: "home.html" } })).toMatchObject({ status: 200, body: "named index\n" });
  });
});

describe("static_single", () => {
  test("serves files, and the index for any other path (single-page apps)", async () => {
    const dir = appDir({ "index.html": "<div id=app></div>\n", "app.js": "console.log(1)\n" });
    expect(await server.create({ spec: "static_single", source: dir, path: "/spa" })).toMatchObject({ status: 200, body: "<div id=app></div>\n" });
    expect(await server.get("/spa/app.js")).toMatchObject({ status: 200, body: "console.log(1)\n" });
    expect(await server.get("/spa/users/42/edit")).toMatchObject({ status: 200, body: "<div id=app></div>\n" });
  });

  test("without an index file it is refused at create, naming the file", async () => {
    const dir = appDir({ "other.html": "x\n" });
    const err = await server.cli("app", "create", "--spec", "static_single", "--approve", dir, "/noindex").catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain("single_file=True serves index.html for every path, and the app folder has no index.html");
  });
});

test("serve: a static folder at the root, with no container engine involved", async () => {
  const dir = appDir({ "index.html": "served by serve\n" });
  const proc = new CliProcess(["serve", dir, "--spec", "static", "--approve", "--port", "0"]);
  try {
    const [, url] = await proc.waitFor(/serving .* at (http:\/\/\S+)/);
    const res = await fetch(url!);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("served by serve\n");
  } finally {
    proc.signal("SIGTERM");
    await proc.exited();
  }
}, 60_000);
