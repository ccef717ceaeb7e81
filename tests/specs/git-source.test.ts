/**
 * The seed's git flow end to end: `app create --spec python-flask --branch <b> github.com/<org>/<repo>/<sub/dir>`
 * clones that branch of https://github.com/<org>/<repo>.git (here a local mirror, see fixtures/git-mirror.ts),
 * builds the sub folder over the spec, and serves it at its path.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testEngine } from "../fixtures/engine.ts";
import { githubMirror } from "../fixtures/git-mirror.ts";
import { specBaseImages } from "../fixtures/spec-bases.ts";
import { FLASK_APP } from "./apps.ts";
import { takeColdStartTable, SpecServer } from "./helpers.ts";

const temp = mkdtempSync(join(tmpdir(), "clace-lite-git-e2e-"));
const mirror = githubMirror(join(temp, "mirror"), "acme", "webapps", {
  main: { "apps/hello/app.py": FLASK_APP.replace("index; next", "main index; next") },
  release: { "apps/hello/app.py": FLASK_APP.replace("index; next", "release index; next"), "README.md": "release\n" },
});
const server = new SpecServer(mirror.env);

beforeAll(async () => {
  await specBaseImages(await testEngine());
  await server.start();
}, 600_000);

afterAll(async () => {
  await server.stop();
  rmSync(temp, { recursive: true, force: true });
  console.log(takeColdStartTable());
});

describe("a github.com source with --branch", () => {
  test("clones that branch, takes the sub folder as the app over the spec, and serves it at its path", async () => {
    const first = await server.create({ spec: "python-flask", source: "github.com/acme/webapps/apps/hello", path: "/ghflask", extra: ["--branch", "release"] });
    expect(first).toMatchObject({ status: 200, body: 'release index; next: <a href="/ghflask/items/7">item</a>\n' });
    expect(await server.get("/ghflask/items/7")).toMatchObject({ status: 200, body: "item 7 at /items/7 under '/ghflask'\n" });
    const listed = JSON.parse((await server.cli("app", "list", "--format", "json")).stdout) as { location: string; source: string; spec: string }[];
    expect(listed).toEqual([expect.objectContaining({ location: "/ghflask", source: "github.com/acme/webapps/apps/hello", spec: "python-flask" })]);
  });

  test("a branch the repository does not have is a clear error, and creates nothing", async () => {
    const result = await server.cli("app", "create", "--spec", "python-flask", "--approve", "--branch", "nope", "github.com/acme/webapps/apps/hello", "/ghbad").catch((e: Error) => e);
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toMatch(/git clone failed: .*nope/);
    expect((await server.get("/ghbad/")).status).toBe(404);
  });
});
