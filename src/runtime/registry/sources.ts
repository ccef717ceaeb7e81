/**
 * App sources: where an app's files come from, made into a folder the loader can read.
 *
 * - "-": no source (spec-only apps such as `image` and `proxy`).
 * - a local folder: copied into the store, so later edits do not leak into the running app (dev apps read the
 *   folder itself).
 * - git: `github.com/org/repo[/sub/dir]`, `https://…[#sub/dir]`, `git@…[#sub/dir]`, `file:///repo[/sub/dir]`
 *   (or `file:///repo#sub/dir`), the path of a bare repository, or a folder in a local repository with --branch or
 *   --commit; cloned shallow with the system git at a branch (default: the remote's HEAD) or a commit.
 */
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SourceError";
  }
}

export interface SourceRequest {
  source: string;
  branch?: string;
  commit?: string;
  dev?: boolean;
}

export interface MaterializedSource {
  /** The folder holding app.star (for a git source with a sub path, that sub folder). */
  dir: string | null;
  /** The commit checked out, for git sources. */
  commit: string;
}

interface GitSource {
  url: string;
  subdir: string;
}

const GIT_HOSTS = /^(github\.com|gitlab\.com|bitbucket\.org)\//;

/** Recognises git sources; returns null for a plain folder or "-". */
export function parseGitSource(source: string, options: { branch?: string; commit?: string } = {}): GitSource | null {
  const host = GIT_HOSTS.exec(source);
  if (host) {
    // github.com/org/repo[.git]/sub/dir → https://github.com/org/repo.git and the sub folder sub/dir.
    const [hostName, org, repo, ...rest] = source.split("/");
    const name = repo?.replace(/\.git$/, "");
    if (!org || !name) throw new SourceError(`invalid git source "${source}": expected ${host[1]}/<org>/<repo>[/sub/dir]`);
    return { url: `https://${hostName}/${org}/${name}.git`, subdir: subFolder(source, rest.join("/")) };
  }
  if (source.startsWith("file://") && !source.includes("#")) {
    // A local repository names its sub folders as paths: file:///repo/sub/dir is file:///repo#sub/dir.
    const local = withinLocalRepository(decodeURIComponent(source.slice("file://".length)));
    if (local) return { url: `file://${local.root}`, subdir: local.subdir };
  }
  if (/^(https?|ssh|git|file):\/\//.test(source) || /^git@[^:]+:/.test(source)) {
    // A "#sub/dir" suffix selects a folder inside the repo, as in Clace's `repo#subdir`.
    const hash = source.indexOf("#");
    return hash >= 0 ? { url: source.slice(0, hash), subdir: subFolder(source, source.slice(hash + 1)) } : { url: source, subdir: "" };
  }
  if (source !== "-" && existsSync(source) && isGitRepository(source) && (isBareRepository(source) || options.branch || options.commit)) {
    return { url: resolve(source), subdir: "" };
  }
  if (source !== "-" && (options.branch || options.commit) && existsSync(source)) {
    // A folder inside a local repository, at a branch or commit: clone the repository, use the folder.
    const local = withinLocalRepository(resolve(source));
    if (local) return { url: local.root, subdir: local.subdir };
  }
  return null;
}

/** A folder inside the clone: relative, without "." or ".." segments (which could point outside it). */
function subFolder(source: string, path: string): string {
  const segments = path.split("/").filter((s) => s !== "");
  if (segments.some((s) => s === "." || s === "..")) {
    throw new SourceError(`invalid git source "${source}": the folder inside the repository may not contain "." or ".." segments`);
  }
  return segments.join("/");
}

/** The repository a local path lies in (the nearest folder up with a .git, or a bare repository) and the path below it. */
function withinLocalRepository(path: string): { root: string; subdir: string } | null {
  const full = resolve(path);
  for (let dir = full; ; dir = dirname(dir)) {
    if (existsSync(dir) && isGitRepository(dir)) return { root: dir, subdir: relative(dir, full) };
    if (dirname(dir) === dir) return null;
  }
}

function isGitRepository(dir: string): boolean {
  return existsSync(join(dir, ".git")) || isBareRepository(dir);
}

function isBareRepository(dir: string): boolean {
  return existsSync(join(dir, "HEAD")) && existsSync(join(dir, "objects")) && existsSync(join(dir, "refs"));
}

async function git(args: string[], cwd?: string): Promise<string> {
  const proc = Bun.spawn(["git", ...args], {
    cwd,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
  });
  const timer = setTimeout(() => proc.kill(), 120_000);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  if (code !== 0) throw new SourceError(`git ${args[0]} failed: ${err.trim() || out.trim() || `exit code ${code}`}`);
  return out.trim();
}

/**
 * Makes the source available under `storeDir` (a folder owned by this app version) and returns where app.star is.
 */
export async function materializeSource(request: SourceRequest, storeDir: string): Promise<MaterializedSource> {
  const { source } = request;
  if (source === "-") return { dir: null, commit: "" };
  const gitSource = parseGitSource(source, request);
  if (gitSource) {
    if (request.dev) throw new SourceError(`dev mode needs a local folder, not the git source "${source}"`);
    return cloneGit(gitSource, request, storeDir);
  }
  const dir = resolve(source);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new SourceError(`source folder "${source}" does not exist; give a folder with an app.star, a git URL, or "-" for none`);
  }
  if (request.branch || request.commit) throw new SourceError(`--branch and --commit need a git source, but "${source}" is a plain folder`);
  if (request.dev) return { dir, commit: "" };
  await staged(storeDir, async (staging) => {
    // Symlinks stay as they are (not rewritten to point into the original folder): the loader confines them.
    cpSync(dir, staging, { recursive: true, verbatimSymlinks: true, filter: (path) => !path.includes("/.git/") && !path.endsWith("/.git") });
  });
  return { dir: storeDir, commit: "" };
}

/** Suffixes of the folders `staged` works in; what a crash leaves of them is swept at the next start. */
export const STAGING_SUFFIX = ".staging";
export const REPLACED_SUFFIX = ".old";
/** A new version fetched beside the source, checked before it replaces it (app reload). */
export const CANDIDATE_SUFFIX = ".next";

/**
 * Fills a fresh folder beside `storeDir` and swaps it in with renames, so `storeDir` is always either the old
 * source or the complete new one, never a half-written copy.
 */
async function staged(storeDir: string, fill: (staging: string) => Promise<void>): Promise<void> {
  const staging = storeDir + STAGING_SUFFIX;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    await fill(staging);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  swapInSource(staging, storeDir);
}

/** Puts the folder `next` in the place of `storeDir` with two renames; the previous one is removed after. */
export function swapInSource(next: string, storeDir: string): void {
  const replaced = storeDir + REPLACED_SUFFIX;
  rmSync(replaced, { recursive: true, force: true });
  if (existsSync(storeDir)) renameSync(storeDir, replaced);
  renameSync(next, storeDir);
  rmSync(replaced, { recursive: true, force: true });
}

async function cloneGit(gitSource: GitSource, request: SourceRequest, storeDir: string): Promise<MaterializedSource> {
  const url = gitSource.url.startsWith("/") ? `file://${gitSource.url}` : gitSource.url;
  const branch = request.branch ? ["--branch", request.branch] : [];
  let commit = "";
  await staged(storeDir, async (staging) => {
    if (request.commit) {
      // Any commit of the branch may be asked for, so this clone needs the history.
      await git(["clone", "-q", ...branch, url, staging]);
      await git(["checkout", "-q", "--detach", request.commit], staging);
    } else {
      await git(["clone", "-q", "--depth", "1", ...branch, url, staging]);
    }
    commit = await git(["rev-parse", "HEAD"], staging);
    if (gitSource.subdir && !existsSync(join(staging, gitSource.subdir))) {
      throw new SourceError(`folder "${gitSource.subdir}" is not in ${gitSource.url} at ${commit.slice(0, 12)}`);
    }
  });
  return { dir: gitSource.subdir ? join(storeDir, gitSource.subdir) : storeDir, commit };
}
