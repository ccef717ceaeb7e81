/**
 * loadApp: an app folder (app.star + params.star, overlaid on a spec) → a typed, validated AppConfig, exactly as
 * Clace reads it. params.star runs first; app.star then runs twice: once as the audit (plugins inert, nothing
 * checked) to learn the loads and permissions it declares, then for real with every plugin load and call checked
 * against the approved list.
 */
import { createHash } from "node:crypto";
import {
  APP_DIALECT,
  exec,
  fromJS,
  MemoryBudget,
  Module,
  StarlarkEvalError,
  StarlarkSyntaxError,
  type Deadline,
  type Value,
} from "../starlark/index.ts";
import type { AppConfig, AuditResult, ProxyRoute, StaticFiles } from "./app-config.ts";
import { realpathSync } from "node:fs";
import { STRUCT_BUILTIN, makeAceModule } from "./ace.ts";
import { confWarnings, containerSettingsFromConf, proxySettingsFromConf } from "./conf.ts";
import { buildContainerSpec } from "./container-config.ts";
import { RuntimeError } from "./errors.ts";
import { AppFiles, cleanName } from "./files.ts";
import { paramsStarEnv } from "./params-star.ts";
import { resolveParams, type ResolvedParam } from "./params.ts";
import { makeAudit, type Approval } from "./permissions.ts";
import { reachDiff, reachOf, type ReachItem } from "./reach.ts";
import type { ContainerSettings, ContainerSpec } from "../containers/index.ts";
import { loadPlugin } from "./plugins.ts";
import { LoadSession, type AppDecl, type SessionMode } from "./session.ts";
import { readSpec, specDir } from "./specs.ts";
import { CONTAINER_URL } from "./app-config.ts";

export interface LoadOptions {
  /** The app folder, or null for "-" (no source: the spec's files only). */
  source: string | null;
  spec?: string;
  /** Param values as given on the command line (`--param k=v`), parsed by the declared type. */
  params?: Readonly<Record<string, string>>;
  /** App-config keys (`--conf container.idle_shutdown_secs=600`). */
  conf?: Readonly<Record<string, string>>;
  /** Build args (`--carg`), overriding container.config(cargs=...). */
  cargs?: Readonly<Record<string, string>>;
  /** Extra volumes (`--cvol`), in any of Clace's four forms. */
  cvols?: readonly string[];
  /** Container options (`--copt`). */
  copts?: Readonly<Record<string, string>>;
  /**
   * What is approved. An Approval is enforced strictly (a server passes the stored one; nothing approved yet is
   * `{loads: [], permissions: []}`). "all-audited" approves what the audit finds (--approve). Left out, the load
   * only inspects: calls must still match the declared permissions, and `audit.needsApproval` says whether an
   * approval is missing.
   */
  approved?: Approval | "all-audited";
  domain?: string;
  path?: string;
  appId?: string;
  /** The command named in "needs approval" messages; defaults to `clace-lite app approve <path>`. */
  approveCommand?: string;
  /** Where app.star's print() goes; dropped by default (lower layers never print). */
  print?: (message: string) => void;
  /** Evaluation step limit per file (runaway configs). */
  maxSteps?: number;
  /** Time and memory budgets of the evaluation; defaults are DEFAULT_EVAL_LIMITS. */
  limits?: Partial<EvalLimits>;
  /**
   * The environment `{{secret ...}}` values are resolved from (the server's); defaults to this thread's
   * process.env. An isolated load passes the serving thread's, since a worker's environment is a copy.
   */
  secretEnv?: Readonly<Record<string, string | undefined>>;
  /** A dev app (watched and reloaded): never idle-stopped unless container.idle_shutdown_dev_apps is set. */
  dev?: boolean;
}

/**
 * What evaluating an app's config may use: wall-clock time for the whole load (params.star and both runs of
 * app.star), and memory counted by the interpreter per run. Exceeding either is a positioned Starlark error.
 */
export interface EvalLimits {
  timeoutSecs: number;
  memoryMb: number;
}

export const DEFAULT_EVAL_LIMITS: EvalLimits = Object.freeze({ timeoutSecs: 10, memoryMb: 512 });

/** Where each budget is raised, named in the error that reports it exceeded. */
export const EVAL_LIMIT_SETTINGS = Object.freeze({
  timeout: "--eval-timeout-secs (server config: [eval] timeout_secs)",
  memory: "--eval-memory-mb (server config: [eval] memory_mb)",
});

function evalLimits(opts: LoadOptions): EvalLimits {
  return { ...DEFAULT_EVAL_LIMITS, ...opts.limits };
}

/** The budgets of one load: one deadline for all of it, a fresh memory count for each evaluation. */
class LoadBudgets {
  readonly deadline: Deadline;
  constructor(private readonly limits: EvalLimits) {
    this.deadline = { atMs: Date.now() + limits.timeoutSecs * 1000, seconds: limits.timeoutSecs, setting: EVAL_LIMIT_SETTINGS.timeout };
  }
  memory(): MemoryBudget {
    return new MemoryBudget(this.limits.memoryMb * 1024 * 1024, EVAL_LIMIT_SETTINGS.memory);
  }
}

const DEFAULT_MAX_STEPS = 10_000_000;
const NOTHING_APPROVED: Approval = Object.freeze({ loads: [], permissions: [] });

function appLabel(domain: string, path: string): string {
  return domain ? `${domain}:${path}` : path;
}

/** Turns an error from the interpreter into a RuntimeError, keeping the kind and fix a builtin gave it. */
function wrapStarlarkError(err: unknown): unknown {
  if (err instanceof RuntimeError) return err;
  if (err instanceof StarlarkSyntaxError) {
    const d = err.diagnostics[0];
    const where = d ? `${d.pos.file}:${d.pos.line}:${d.pos.col}` : undefined;
    return new RuntimeError("starlark", d ? d.message : err.message, where, undefined, err.render());
  }
  if (err instanceof StarlarkEvalError) {
    const where = `${err.pos.file}:${err.pos.line}:${err.pos.col}`;
    // A builtin's own error (a missing approval, a bad param ...) keeps its kind and fix, positioned at the call.
    const raised = err.cause;
    if (raised instanceof RuntimeError) return new RuntimeError(raised.kind, raised.reason, where, raised.fix, err.render());
    return new RuntimeError("starlark", err.message, where, undefined, err.render());
  }
  return err;
}

interface Context {
  files: AppFiles;
  opts: LoadOptions;
  paramModule: Value;
  budgets: LoadBudgets;
}

/** Runs app.star (and the .star files it loads) in one session; returns what `app = ace.app(...)` declared. */
function runApp(ctx: Context, session: LoadSession): AppDecl {
  const ace = makeAceModule(session);
  const predeclared: Record<string, Value> = { ace, param: ctx.paramModule, struct: STRUCT_BUILTIN };
  const cache = new Map<string, Record<string, Value>>();
  const loading: string[] = [];
  const budget = ctx.budgets.memory();

  const load = (module: string): Record<string, Value> => {
    if (module.endsWith(".in") || module.includes(".in#")) return loadPlugin(session, module);
    if (!module.endsWith(".star")) {
      throw new RuntimeError("config", `cannot load ${JSON.stringify(module)}: only sibling .star files and plugins (name.in) can be loaded`);
    }
    const name = cleanName(module);
    if (name === null) throw new RuntimeError("config", `cannot load ${JSON.stringify(module)}: it is outside the app folder`);
    const cached = cache.get(name);
    if (cached) return cached;
    if (loading.includes(name)) {
      throw new RuntimeError("config", `load cycle: ${[...loading, name].join(" -> ")}`, undefined, "remove one of the load() statements in the cycle");
    }
    // A link out of the app folder throws here: reported at the load() statement, keeping its kind and fix.
    const src = ctx.files.read(name);
    if (src === null) throw new RuntimeError("config", `cannot load ${JSON.stringify(module)}: no such file in the app`);
    loading.push(name);
    try {
      const globals = execFile(name, src, predeclared, load);
      cache.set(name, globals);
      return globals;
    } finally {
      loading.pop();
    }
  };

  const execFile = (
    file: string,
    src: string,
    pre: Record<string, Value>,
    loader: (m: string, from: string) => Record<string, Value>,
  ): Record<string, Value> =>
    exec(file, src, {
      predeclared: pre,
      options: APP_DIALECT,
      load: loader,
      print: ctx.opts.print ?? (() => {}),
      maxSteps: ctx.opts.maxSteps ?? DEFAULT_MAX_STEPS,
      deadline: ctx.budgets.deadline,
      budget,
    });

  const appSrc = ctx.files.read("app.star")!;
  let globals: Record<string, Value>;
  try {
    loading.push("app.star");
    globals = execFile("app.star", appSrc, predeclared, load);
  } catch (err) {
    throw wrapStarlarkError(err);
  }
  const app = globals.app;
  if (app === undefined) {
    throw new RuntimeError(
      "config",
      "app.star does not define `app`",
      undefined,
      'bind the app at the top level: app = ace.app("name", routes=[ace.proxy("/", proxy.config(container.URL))], ...)',
    );
  }
  const decl = typeof app === "object" ? session.apps.get(app) : undefined;
  if (!decl) {
    throw new RuntimeError("config", "`app` in app.star is not the result of ace.app(...)", undefined, "write app = ace.app(...)");
  }
  return decl;
}

function loadParams(files: AppFiles, values: Readonly<Record<string, string>>, budgets: LoadBudgets): ResolvedParam[] {
  const src = files.read("params.star");
  if (src === null) return resolveParams([], values);
  const env = paramsStarEnv();
  try {
    exec("params.star", src, {
      predeclared: env.predeclared,
      options: APP_DIALECT,
      print: () => {},
      maxSteps: DEFAULT_MAX_STEPS,
      deadline: budgets.deadline,
      budget: budgets.memory(),
    });
  } catch (err) {
    throw wrapStarlarkError(err);
  }
  return resolveParams(env.decls, values);
}

function prepare(opts: LoadOptions): { files: AppFiles; params: ResolvedParam[]; ctx: Context } {
  const spec = opts.spec ? readSpec(opts.spec) : null;
  if (opts.source === null && spec === null) {
    throw new RuntimeError("source", 'no app source ("-") and no spec', undefined, "pass an app folder, or choose a spec with --spec NAME");
  }
  const files = AppFiles.open(opts.source, spec);
  if (files.origin("app.star") === null) {
    throw new RuntimeError(
      "source",
      `no app.star in ${opts.source ?? "the spec"}${spec ? ` or the spec ${spec.name}` : ""}`,
      undefined,
      "add an app.star to the app folder, or choose a spec with --spec NAME (see `clace-lite spec list`)",
    );
  }
  const budgets = new LoadBudgets(evalLimits(opts));
  const params = loadParams(files, opts.params ?? {}, budgets);
  const members: Record<string, Value> = {};
  for (const p of params) if (p.declared) members[p.name] = fromJS(p.value);
  const ctx: Context = { files, opts, paramModule: new Module("param", members), budgets };
  return { files, params, ctx };
}

function approveCommandOf(opts: LoadOptions): string {
  return opts.approveCommand ?? `clace-lite app approve ${appLabel(opts.domain ?? "", opts.path ?? "/")}`;
}

function session(mode: SessionMode, approval: Approval, declared: Approval["permissions"], opts: LoadOptions): LoadSession {
  return new LoadSession(mode, approval, declared, approveCommandOf(opts));
}

/** The container an ace.app(...) declaration describes, with the flags of the load. */
function containerOf(
  decl: AppDecl,
  opts: LoadOptions,
  files: AppFiles,
  params: ResolvedParam[],
  settings: ContainerSettings,
  withSecrets: boolean,
): ContainerSpec | undefined {
  if (!decl.container) return undefined;
  const configPermission = decl.permissions.find((p) => p.plugin === "container.in" && p.method === "config");
  const path = opts.path ?? "/";
  return buildContainerSpec(decl.container, {
    appId: opts.appId ?? defaultAppId(opts),
    appName: appLabel(opts.domain ?? "", path),
    appPath: path,
    files,
    params,
    routes: decl.routes,
    settings,
    cargs: opts.cargs ?? {},
    cvols: opts.cvols ?? [],
    copts: opts.copts ?? {},
    secrets: withSecrets ? { sources: { env: opts.secretEnv ?? process.env }, allowed: configPermission?.secrets } : undefined,
  });
}

function reachOfApp(container: ContainerSpec | undefined, files: AppFiles): ReachItem[] {
  return reachOf(container, { sourceDir: files.sourceDir, specDir: files.spec ? specDir(files.spec) : null });
}

/** The audit: runs app.star with inert plugins and reports its loads, declared permissions and reach. */
export function auditApp(opts: LoadOptions): AuditResult {
  const { files, params, ctx } = prepare(opts);
  const s = session("audit", NOTHING_APPROVED, [], opts);
  const decl = runApp(ctx, s);
  const container = containerOf(decl, opts, files, params, containerSettingsFromConf(opts.conf ?? {}), false);
  const found: Approval = { loads: s.loads, permissions: decl.permissions, reach: reachOfApp(container, files) };
  const approval = opts.approved === undefined || opts.approved === "all-audited" ? NOTHING_APPROVED : opts.approved;
  return makeAudit(found, opts.approved === "all-audited" ? found : approval);
}

/** A static app's one route: everything under the app path to its own upstream, the file server. */
const STATIC_ROUTE: ProxyRoute = Object.freeze({
  path: "/",
  url: CONTAINER_URL,
  stripPath: "",
  preserveHost: false,
  stripApp: true,
  responseHeaders: Object.freeze({}),
});

const INDEX_FILES = ["index.html", "index.htm"];

/** What a static_only app serves: its source folder, with the index named or found (index.html, index.htm). */
function staticFilesOf(decl: { index: string; singleFile: boolean }, files: AppFiles): StaticFiles {
  if (files.sourceDir === null) {
    throw new RuntimeError(
      "config",
      "a static_only app serves the files of its app folder, and this app has none (\"-\")",
      undefined,
      "create the app from the folder of files to serve",
    );
  }
  let index = decl.index;
  if (index !== "") {
    const clean = cleanName(index);
    if (clean === null) throw new RuntimeError("config", `ace.app: index ${JSON.stringify(index)} must be a file inside the app folder`, undefined, "name a file such as index.html");
    index = clean;
  } else index = INDEX_FILES.find((f) => files.origin(f) === "source") ?? INDEX_FILES[0]!;
  if (decl.singleFile && files.origin(index) !== "source") {
    throw new RuntimeError(
      "config",
      `single_file=True serves ${index} for every path, and the app folder has no ${index}`,
      undefined,
      "add the file, or name another with index= (the static specs take --param index=NAME)",
    );
  }
  return Object.freeze({ root: realpathSync(files.sourceDir), index, singleFile: decl.singleFile });
}

export function defaultAppId(opts: Pick<LoadOptions, "source" | "spec" | "domain" | "path">): string {
  const key = JSON.stringify([opts.source, opts.spec ?? "", opts.domain ?? "", opts.path ?? "/"]);
  return `app_cl_${createHash("sha256").update(key).digest("hex").slice(0, 20)}`;
}

export function loadApp(opts: LoadOptions): AppConfig {
  const domain = opts.domain ?? "";
  const path = opts.path ?? "/";
  if (!path.startsWith("/")) {
    throw new RuntimeError("config", `the app path ${JSON.stringify(path)} must start with "/"`, undefined, "write the path as /name");
  }
  const confSettings = containerSettingsFromConf(opts.conf ?? {});
  // Clace exempts dev apps from idle shutdown unless container.idle_shutdown_dev_apps is set.
  const settings = opts.dev && !confSettings.idleShutdownDevApps ? Object.freeze({ ...confSettings, idleShutdownSecs: 0 }) : confSettings;
  const proxySettings = proxySettingsFromConf(opts.conf ?? {});
  const warnings = confWarnings(opts.conf ?? {});
  const { files, params, ctx } = prepare(opts);

  const auditSession = session("audit", NOTHING_APPROVED, [], opts);
  const audited = runApp(ctx, auditSession);
  const found: Approval = { loads: auditSession.loads, permissions: audited.permissions };

  // Inspect-only loads still check calls against what the app declares, so undeclared calls fail everywhere.
  const approval = opts.approved === undefined || opts.approved === "all-audited" ? found : opts.approved;
  const enforced = runApp(ctx, session("enforce", approval, found.permissions, opts));

  const staticFiles = enforced.static ? staticFilesOf(enforced.static, files) : undefined;
  const usesContainer = enforced.routes.some((r) => r.url === CONTAINER_URL);
  if (usesContainer && !enforced.container) {
    throw new RuntimeError(
      "config",
      "a route proxies to container.URL but ace.app has no container",
      undefined,
      "pass container=container.config(container.AUTO) to ace.app",
    );
  }
  const container = containerOf(enforced, opts, files, params, settings, true);
  const reach = reachOfApp(container, files);
  if (opts.approved !== undefined && opts.approved !== "all-audited") {
    // Beyond Clace: the approval also covers what the container reaches, and any change to that needs approving.
    const diff = reachDiff(opts.approved.reach, reach);
    if (diff.length > 0) {
      throw new RuntimeError(
        "not-approved",
        `what the container can reach is not approved:\n  ${diff.join("\n  ")}`,
        undefined,
        `review the change, then approve it with \`${approveCommandOf(opts)}\``,
      );
    }
  }
  const audit = makeAudit({ ...found, reach }, opts.approved === undefined ? NOTHING_APPROVED : { ...approval, reach: opts.approved === "all-audited" ? reach : approval.reach });

  const config: AppConfig = {
    name: enforced.name,
    domain,
    path,
    routes: Object.freeze(staticFiles ? [STATIC_ROUTE] : [...enforced.routes]),
    proxy: proxySettings,
    ...(container ? { container } : {}),
    ...(staticFiles ? { staticFiles } : {}),
    params: Object.freeze(params.map((p) => Object.freeze(p))),
    permissions: Object.freeze([...enforced.permissions]),
    settings: Object.freeze(enforced.settings),
    audit: Object.freeze(audit),
    warnings: Object.freeze(warnings),
  };
  return Object.freeze(config);
}
