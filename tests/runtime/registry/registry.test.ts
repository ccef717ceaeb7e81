import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EMPTY_METADATA, SqliteAppStore, type AppChange, type AppRecord, type AppStore } from "../../../src/runtime/registry/store.ts";
import { PostgresAppStore, RegistryError } from "../../../src/runtime/registry/postgres.ts";
import { openAppStore } from "../../../src/runtime/registry/open.ts";
import { startPostgres, type TestPostgres } from "../../fixtures/postgres.ts";
import { freePort } from "../../fixtures/registry.ts";
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

/**
 * The registry contract, run against both implementations: SQLite (embedded, one server) and PostgreSQL (shared;
 * a real cluster from Debian's postgresql package, one fresh database per test).
 */
interface Backend {
  name: string;
  /** A new, empty registry; `second()` opens another handle on the same one (another server). */
  fresh(): Promise<{ open(): Promise<AppStore>; cleanup(): Promise<void> }>;
}

let postgres: TestPostgres | undefined;
let databases = 0;

const backends: Backend[] = [
  {
    name: "SQLite",
    async fresh() {
      const dir = mkdtempSync(join(tmpdir(), "clace-lite-store-"));
      return {
        open: async () => new SqliteAppStore(join(dir, "clace-lite.db")),
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: "PostgreSQL",
    async fresh() {
      if (!postgres) throw new Error("PostgreSQL did not start");
      const url = await postgres.createDatabase(`registry_${++databases}`);
      return { open: () => PostgresAppStore.connect(url), cleanup: async () => {} };
    },
  },
];

beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);

afterAll(async () => {
  await postgres?.stop();
});

const base = { domain: "", source: "-", sourceDir: null, spec: "", dev: false, metadata: EMPTY_METADATA };

/** The overlap check the host runs inside the insert transaction. */
const refuseOverlap = (path: string) => (existing: AppRecord[]) => {
  const clash = existing.find((e) => locationsOverlap(e, { domain: "", path }));
  if (clash) throw new Error(`overlaps ${clash.path}`);
};

for (const backend of backends) {
  describe(`app store (${backend.name})`, () => {
    test("persists apps across reopen and refuses a second app at the same place", async () => {
      const registry = await backend.fresh();
      try {
        const store = await registry.open();
        await store.insert({ ...base, path: "/a", spec: "image", id: "app_1", metadata: { ...EMPTY_METADATA, params: { image: "nginx" } } });
        await expect(store.insert({ ...base, path: "/a", id: "app_2" })).rejects.toThrow();
        const before = (await store.get("app_1"))!;
        await Bun.sleep(2);
        const updated = await store.update("app_1", { metadata: { ...EMPTY_METADATA, params: { image: "busybox" } } });
        expect(updated.updatedAt > before.updatedAt).toBe(true);
        expect(updated.createdAt).toBe(before.createdAt);
        await store.close();

        const reopened = await registry.open();
        const apps = await reopened.list();
        expect(apps.map((a) => a.id)).toEqual(["app_1"]);
        expect(apps[0]!.metadata.params).toEqual({ image: "busybox" });
        expect(apps[0]!.spec).toBe("image");
        expect(apps[0]!.dev).toBe(false);
        expect((await reopened.findByRoute("", "/a"))?.id).toBe("app_1");
        await reopened.delete("app_1");
        expect(await reopened.list()).toEqual([]);
        await expect(reopened.update("app_1", { spec: "x" })).rejects.toThrow("no app with id app_1");
        await reopened.close();
      } finally {
        await registry.cleanup();
      }
    });

    test("lists apps in byte order of domain, then path", async () => {
      const registry = await backend.fresh();
      const store = await registry.open();
      try {
        for (const [id, domain, path] of [["a", "b.com", "/x"], ["b", "", "/Z"], ["c", "", "/a"], ["d", "a.com", "/"]] as const) {
          await store.insert({ ...base, id, domain, path });
        }
        expect((await store.list()).map((r) => `${r.domain}:${r.path}`)).toEqual([":/Z", ":/a", "a.com:/", "b.com:/x"]);
      } finally {
        await store.close();
        await registry.cleanup();
      }
    });

    test("the insert check runs in the same transaction", async () => {
      const registry = await backend.fresh();
      const store = await registry.open();
      try {
        await store.insert({ ...base, id: "a", path: "/x" });
        await expect(store.insert({ ...base, id: "b", path: "/x/y" }, refuseOverlap("/x/y"))).rejects.toThrow("overlaps /x");
        expect((await store.list()).length).toBe(1);
      } finally {
        await store.close();
        await registry.cleanup();
      }
    });

    test("two handles creating overlapping apps at once: exactly one wins", async () => {
      const registry = await backend.fresh();
      const stores = [await registry.open(), await registry.open()];
      try {
        for (let round = 0; round < 10; round++) {
          const paths = [`/r${round}`, `/r${round}/sub`];
          const results = await Promise.allSettled(
            stores.map((store, i) => store.insert({ ...base, id: `app_${round}_${i}`, path: paths[i]! }, refuseOverlap(paths[i]!))),
          );
          expect(results.filter((r) => r.status === "fulfilled").length).toBe(1);
        }
        expect((await stores[0]!.list()).length).toBe(10);
      } finally {
        for (const store of stores) await store.close();
        await registry.cleanup();
      }
    });
  });
}

describe("shared registry (PostgreSQL)", () => {
  const shared = backends.find((b) => b.name === "PostgreSQL")!;

  test("servers on one database share an owner; another database is another owner", async () => {
    const one = await shared.fresh();
    const other = await shared.fresh();
    const [a, b, c] = [await one.open(), await one.open(), await other.open()];
    try {
      expect(a.sharedOwner).toMatch(/^registry:[0-9a-f]{16}$/);
      expect(b.sharedOwner).toBe(a.sharedOwner!);
      expect(c.sharedOwner).not.toBe(a.sharedOwner!);
      expect(new SqliteAppStore(":memory:").sharedOwner).toBeUndefined();
    } finally {
      for (const s of [a, b, c]) await s.close();
    }
  });

  test("a change through one handle is announced to the other within a second", async () => {
    const registry = await shared.fresh();
    const [writer, reader] = [await registry.open(), await registry.open()];
    const seen: AppChange[] = [];
    const watching = await reader.watch((change) => seen.push(change));
    const arrived = async (what: string, test: (c: AppChange) => boolean) => {
      const deadline = Date.now() + 1000;
      while (!seen.some(test)) {
        if (Date.now() > deadline) throw new Error(`${what} was not announced within a second: ${JSON.stringify(seen)}`);
        await Bun.sleep(10);
      }
    };
    try {
      await writer.insert({ ...base, id: "app_n", path: "/n" });
      await arrived("the insert", (c) => c.op === "insert" && c.id === "app_n");
      await writer.update("app_n", { spec: "image" });
      await arrived("the update", (c) => c.op === "update" && c.id === "app_n");
      await writer.delete("app_n");
      await arrived("the delete", (c) => c.op === "delete" && c.id === "app_n");
      // A refused insert announces nothing.
      await writer.insert({ ...base, id: "app_m", path: "/m" });
      await expect(writer.insert({ ...base, id: "app_m2", path: "/m/x" }, refuseOverlap("/m/x"))).rejects.toThrow();
      await arrived("the second insert", (c) => c.op === "insert" && c.id === "app_m");
      await Bun.sleep(200);
      expect(seen.some((c) => c.id === "app_m2")).toBe(false);
    } finally {
      await watching.close();
      await writer.close();
      await reader.close();
    }
  });

  test("exclusive work on one key runs one handle at a time; other keys do not wait", async () => {
    const registry = await shared.fresh();
    const [a, b] = [await registry.open(), await registry.open()];
    const log: string[] = [];
    const work = (who: string, ms: number) => async () => {
      log.push(`${who} in`);
      await Bun.sleep(ms);
      log.push(`${who} out`);
      return who;
    };
    try {
      const first = a.exclusive("start:app_1", work("a", 300));
      await Bun.sleep(50);
      const second = b.exclusive("start:app_1", work("b", 10));
      const other = b.exclusive("start:app_2", work("c", 10));
      expect(await Promise.all([first, second, other])).toEqual(["a", "b", "c"]);
      expect(log.indexOf("b in")).toBeGreaterThan(log.indexOf("a out"));
      expect(log.indexOf("c out")).toBeLessThan(log.indexOf("a out"));
      // A failing piece of work releases the key too.
      await expect(a.exclusive("start:app_1", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
      expect(await b.exclusive("start:app_1", async () => "free")).toBe("free");
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("request activity: the latest any other server recorded, never going back in time", async () => {
    const registry = await shared.fresh();
    const [a, b] = [await registry.open(), await registry.open()];
    try {
      await a.insert({ ...base, id: "app_1", path: "/one" });
      expect(await b.activity!.latest("app_1", "server-b")).toBe(0);
      await a.activity!.publish("server-a", new Map([["app_1", 2_000_000_000_000]]));
      await a.activity!.publish("server-a", new Map([["app_1", 1_000_000_000_000]]));
      await b.activity!.publish("server-b", new Map([["app_1", 3_000_000_000_000]]));
      expect(await b.activity!.latest("app_1", "server-b")).toBe(2_000_000_000_000);
      expect(await a.activity!.latest("app_1", "server-a")).toBe(3_000_000_000_000);
      await a.delete("app_1");
      expect(await a.activity!.latest("app_1", "server-a")).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("with the database gone, exclusive work still runs (unlocked) and writes fail with an error", async () => {
    const own = await startPostgres();
    try {
      const store = await PostgresAppStore.connect(await own.createDatabase("going"));
      await own.stop();
      expect(await store.exclusive("start:app_1", async () => "started anyway")).toBe("started anyway");
      await expect(store.insert({ ...base, id: "x", path: "/x" })).rejects.toThrow();
      await store.close().catch(() => {});
    } finally {
      await own.stop();
    }
  }, 60_000);

  test("a URL that is not PostgreSQL, or a database that does not answer, is an error naming it without the password", async () => {
    await expect(openAppStore("mysql://u:secret@127.0.0.1/x", "/nonexistent")).rejects.toThrow(/unsupported registry "mysql:\/\/u:\*\*\*@/);
    const closed = await freePort();
    const err = await openAppStore(`postgres://u:secret@127.0.0.1:${closed}/x`, "/nonexistent").catch((e: Error) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toContain(`cannot use the registry at postgres://u:***@127.0.0.1:${closed}/x`);
    expect((err as Error).message).not.toContain("secret");
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
