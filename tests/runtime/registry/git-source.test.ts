/**
 * The seed's git form, `github.com/org/repo/sub/dir` with `--branch`: which URL is cloned, at which branch, and which
 * folder of the clone is the app. The clone runs the system git against a local mirror of github.com (see
 * fixtures/git-mirror.ts), which only answers for exactly the URL https://github.com/<org>/<repo>.git.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { materializeSource, parseGitSource, SourceError } from "../../../src/runtime/registry/sources.ts";
import { githubMirror } from "../../fixtures/git-mirror.ts";

const temp = mkdtempSync(join(tmpdir(), "clace-lite-git-source-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe("github.com/org/repo[/sub/dir] sources", () => {
  test("map to the repository's https clone URL and the folder below it", () => {
    expect(parseGitSource("github.com/acme/webapps/apps/hello", { branch: "release" })).toEqual({ url: "https://github.com/acme/webapps.git", subdir: "apps/hello" });
    expect(parseGitSource("github.com/acme/webapps")).toEqual({ url: "https://github.com/acme/webapps.git", subdir: "" });
    // A .git suffix on the repository and stray slashes change nothing.
    expect(parseGitSource("github.com/acme/webapps.git/apps//hello/")).toEqual({ url: "https://github.com/acme/webapps.git", subdir: "apps/hello" });
    expect(parseGitSource("gitlab.com/acme/webapps/x")).toEqual({ url: "https://gitlab.com/acme/webapps.git", subdir: "x" });
    expect(parseGitSource("https://example.com/r.git#apps/hello")).toEqual({ url: "https://example.com/r.git", subdir: "apps/hello" });
  });

  test("without an org and a repository, or with a folder that climbs out of the clone, are errors that say so", () => {
    for (const bad of ["github.com/acme", "github.com/acme/", "github.com//webapps"]) {
      expect(() => parseGitSource(bad)).toThrow(SourceError);
      expect(() => parseGitSource(bad)).toThrow(`invalid git source "${bad}": expected github.com/<org>/<repo>[/sub/dir]`);
    }
    for (const bad of ["github.com/acme/webapps/../../etc", "https://example.com/r.git#a/../../b"]) {
      expect(() => parseGitSource(bad)).toThrow('the folder inside the repository may not contain "." or ".." segments');
    }
  });

  test("with --branch, clone that branch of that URL and give the sub folder as the app's folder", async () => {
    const { env, commits } = githubMirror(join(temp, "mirror"), "acme", "webapps", {
      main: { "apps/hello/app.star": "main\n", "README": "main\n" },
      release: { "apps/hello/app.star": "release\n", "apps/other/app.star": "other\n" },
    });
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const got = await materializeSource({ source: "github.com/acme/webapps/apps/hello", branch: "release" }, join(temp, "store1"));
      expect(got).toEqual({ dir: join(temp, "store1", "apps/hello"), commit: commits.release! });
      expect(await Bun.file(join(got.dir!, "app.star")).text()).toBe("release\n");
      // Without --branch: the remote's default branch.
      const onDefault = await materializeSource({ source: "github.com/acme/webapps/apps/hello" }, join(temp, "store2"));
      expect(await Bun.file(join(onDefault.dir!, "app.star")).text()).toBe("main\n");
      // A folder the branch does not have, and a repository the host does not have, are clear errors.
      await expect(materializeSource({ source: "github.com/acme/webapps/apps/other" }, join(temp, "store3"))).rejects.toThrow(
        `folder "apps/other" is not in https://github.com/acme/webapps.git at ${commits.main!.slice(0, 12)}`,
      );
      await expect(materializeSource({ source: "github.com/acme/nothing", branch: "release" }, join(temp, "store4"))).rejects.toThrow(/git clone failed: /);
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});
