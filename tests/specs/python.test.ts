/**
 * python-flask, python-wsgi and python-asgi serve a real app through clace-lite and the real engine, built FROM the
 * offline stand-in python image exactly as the specs are written: at the root (check) and at a sub path (server),
 * where the links the app builds must carry the sub path too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testEngine } from "../fixtures/engine.ts";
import { specBaseImages } from "../fixtures/spec-bases.ts";
import { ASGI_APP, FLASK_APP } from "./apps.ts";
import { appDir, checkAtRoot, removeAppDirs, SpecServer, takeColdStartTable } from "./helpers.ts";

const server = new SpecServer();

beforeAll(async () => {
  // The stand-in base images take about a minute the first time on a machine, then are cached by tag.
  await specBaseImages(await testEngine());
  await server.start();
}, 600_000);

afterAll(async () => {
  await server.stop();
  removeAppDirs();
  console.log(takeColdStartTable());
});

describe("python-flask", () => {
  const source = () => appDir({ "app.py": FLASK_APP });

  test("serves at / with url_for links at the root", async () => {
    await checkAtRoot({ spec: "python-flask", source: source(), expectBody: 'href="/items/7"' });
  });

  test("serves at a sub path: routes below it, url_for and redirects under it", async () => {
    const first = await server.create({ spec: "python-flask", source: source(), path: "/flask" });
    expect(first).toMatchObject({ status: 200, body: 'index; next: <a href="/flask/items/7">item</a>\n' });
    expect(await server.get("/flask")).toMatchObject({ status: 200, body: 'index; next: <a href="/flask/items/7">item</a>\n' });
    expect(await server.get("/flask/items/7")).toMatchObject({ status: 200, body: "item 7 at /items/7 under '/flask'\n" });
    const go = await server.get("/flask/go");
    expect(go.status).toBe(302);
    expect(go.headers.get("location")).toBe("/flask/items/3");
    expect((await server.get("/flask/nope")).status).toBe(404);
  });
});

describe("python-wsgi", () => {
  // gunicorn runs the same Flask app; requirements.txt brings Flask (found installed, no index needed).
  const source = () => appDir({ "app.py": FLASK_APP, "requirements.txt": "flask\n" });

  test("serves at / with links at the root", async () => {
    await checkAtRoot({ spec: "python-wsgi", source: source(), expectBody: 'href="/items/7"' });
  });

  test("serves at a sub path: gunicorn's SCRIPT_NAME matches the forwarded path, links and redirects under it", async () => {
    const first = await server.create({ spec: "python-wsgi", source: source(), path: "/wsgi_app" });
    expect(first).toMatchObject({ status: 200, body: 'index; next: <a href="/wsgi_app/items/7">item</a>\n' });
    expect(await server.get("/wsgi_app/items/7")).toMatchObject({ status: 200, body: "item 7 at /items/7 under '/wsgi_app'\n" });
    const go = await server.get("/wsgi_app/go");
    expect(go.status).toBe(302);
    expect(go.headers.get("location")).toBe("/wsgi_app/items/3");
    // The bare app path is answered by the app's own redirect to the path with a slash.
    const bare = await server.get("/wsgi_app");
    expect(bare.status).toBe(308);
    expect(new URL(bare.headers.get("location")!, server.base).pathname).toBe("/wsgi_app/");
  });
});

describe("python-asgi", () => {
  // The spec installs uvicorn (found installed); the app needs nothing else.
  const source = () => appDir({ "app.py": ASGI_APP, "requirements.txt": "# a plain ASGI callable needs only uvicorn\n" });

  test("serves a plain ASGI callable at / with links at the root", async () => {
    await checkAtRoot({ spec: "python-asgi", source: source(), expectBody: 'href="/items/7"' });
  });

  test("serves at a sub path: root_path carries it, links under it", async () => {
    const first = await server.create({ spec: "python-asgi", source: source(), path: "/asgi" });
    expect(first).toMatchObject({ status: 200, body: 'index; next: <a href="/asgi/items/7">item</a>\n' });
    expect(await server.get("/asgi")).toMatchObject({ status: 200, body: 'index; next: <a href="/asgi/items/7">item</a>\n' });
    expect(await server.get("/asgi/items/7")).toMatchObject({ status: 200, body: "item 7 under '/asgi'\n" });
    expect(await server.get("/asgi/nope")).toMatchObject({ status: 404, body: "no route for /nope\n" });
  });
});
