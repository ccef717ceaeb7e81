/** Sub folders of local git repositories, named the way github.com/org/repo/sub/dir names them. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { materializeSource, parseGitSource } from "../../../src/runtime/registry/sources.ts";

let dir: string;
let repo: string;

function git(args: string[]): string {
  const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@e", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@e" };
  const r = Bun.spawnSync(["git", ...args], { cwd: repo, env });
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return r.stdout.toString().trim();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "clace-lite-gitsub-"));
  repo = join(dir, "repo");
  await Bun.write(join(repo, "apps/web/app.star"), "main version");
  await Bun.write(join(repo, "README"), "root");
  git(["init", "-q", "-b", "main"]);
  git(["add", "."]);
  git(["commit", "-qm", "one"]);
  git(["checkout", "-qb", "feature"]);
  await Bun.write(join(repo, "apps/web/app.star"), "feature version");
  git(["commit", "-qam", "two"]);
  git(["checkout", "-q", "main"]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("local repositories", () => {
  test("file:///repo/sub/dir is the repository at file:///repo with the sub folder sub/dir", () => {
    expect(parseGitSource(`file://${repo}/apps/web`)).toEqual({ url: `file://${repo}`, subdir: "apps/web" });
    expect(parseGitSource(`file://${repo}`)).toEqual({ url: `file://${repo}`, subdir: "" });
    expect(parseGitSource(`file://${repo}#apps/web`)).toEqual({ url: `file://${repo}`, subdir: "apps/web" });
  });

  test("a folder inside a repository is a plain folder, unless --branch or --commit ask for the repository", () => {
    expect(parseGitSource(join(repo, "apps/web"))).toBeNull();
    expect(parseGitSource(join(repo, "apps/web"), { branch: "feature" })).toEqual({ url: repo, subdir: "apps/web" });
  });

  test("each form checks out the sub folder at the branch asked for", async () => {
    const viaPath = await materializeSource({ source: join(repo, "apps/web"), branch: "feature" }, join(dir, "s1"));
    expect(await Bun.file(join(viaPath.dir!, "app.star")).text()).toBe("feature version");
    const viaUrl = await materializeSource({ source: `file://${repo}/apps/web`, branch: "feature" }, join(dir, "s2"));
    expect(await Bun.file(join(viaUrl.dir!, "app.star")).text()).toBe("feature version");
    const viaUrlMain = await materializeSource({ source: `file://${repo}/apps/web` }, join(dir, "s3"));
    expect(await Bun.file(join(viaUrlMain.dir!, "app.star")).text()).toBe("main version");
    expect(viaUrlMain.commit).toMatch(/^[0-9a-f]{40}$/);
  });
});
