/** `clace-lite config DIR|-`: load an app and print its resolved config, without building or running anything. */
import { addEvalLimitOptions, evalLimitsOf, type EvalLimitFlags } from "./eval-limits.ts";
import { resolve } from "node:path";
import { Option, type Command } from "commander";
import { EXIT_USAGE, UserError } from "./output.ts";
import type { AppConfig, Permission } from "../runtime/index.ts";
import { addAppOptions, appSettings, type AppFlags } from "./options.ts";

interface ConfigFlags extends AppFlags {
  appPath?: string;
  path?: string;
  domain?: string;
  json?: boolean;
}

function show(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v);
}

/** The human-readable form of a resolved config. */
export function formatConfig(cfg: AppConfig, describePermission: (p: Permission) => string): string {
  const out: string[] = [];
  out.push(`app ${JSON.stringify(cfg.name)} at ${cfg.domain ? `${cfg.domain}:` : ""}${cfg.path}`);
  out.push("routes:");
  for (const r of cfg.routes) {
    const flags = [`strip_app=${r.stripApp}`, `preserve_host=${r.preserveHost}`];
    if (r.stripPath) flags.push(`strip_path=${r.stripPath}`);
    const headers = Object.keys(r.responseHeaders);
    if (headers.length) flags.push(`response_headers=${headers.join(",")}`);
    out.push(`  ${r.path} -> ${r.url}  (${flags.join(" ")})`);
  }
  const c = cfg.container;
  if (c) {
    out.push("container:");
    if (c.image.kind === "image") out.push(`  image: ${c.image.ref}`);
    else {
      out.push(`  build: ${c.image.containerFile} from ${c.image.contextDirs.join(" + ")}`);
      for (const [k, v] of Object.entries(c.image.buildArgs)) out.push(`    build arg ${k}=${v}`);
    }
    out.push(`  port: ${c.port} (${c.scheme}), health ${c.healthPath}, lifetime ${c.lifetime}`);
    out.push("  env:");
    for (const [k, v] of Object.entries(c.env)) out.push(`    ${k}=${v}`);
    for (const v of c.volumes) {
      const text =
        v.kind === "bind"
          ? `${v.hostPath}:${v.target}${v.readOnly ? ":ro" : ""}`
          : v.kind === "named"
            ? `${v.name}:${v.target}${v.readOnly ? ":ro" : ""}`
            : v.kind === "unnamed"
              ? v.target
              : `cl_secret:${v.templatePath}:${v.target}`;
      out.push(`  volume (${v.kind}): ${text}`);
    }
    for (const [k, v] of Object.entries(c.options)) out.push(`  option --${k}${v ? `=${v}` : ""}`);
    const s = c.settings;
    out.push(
      `  settings: idle_shutdown_secs=${s.idleShutdownSecs} health_url=${s.healthUrl} health_attempts_after_startup=${s.healthAttemptsAfterStartup} health_timeout_secs=${s.healthTimeoutSecs} status_check_interval_secs=${s.statusCheckIntervalSecs} status_health_attempts=${s.statusHealthAttempts} idle_shutdown_dev_apps=${s.idleShutdownDevApps}`,
    );
  }
  if (cfg.params.length) {
    out.push("params:");
    for (const p of cfg.params) {
      const tags = [p.type, p.required ? "required" : "optional"];
      if (p.declared === false) tags.push("not declared");
      out.push(`  ${p.name} = ${show(p.value)}  (${tags.join(", ")})${p.description ? `  ${p.description}` : ""}`);
    }
  }
  if (cfg.permissions.length) {
    out.push("permissions:");
    for (const p of cfg.permissions) out.push(`  ${describePermission(p)}${p.type ? ` ${p.type}` : ""}`);
  }
  for (const w of cfg.warnings) out.push(`warning: ${w}`);
  out.push(`audit: loads ${cfg.audit.loads.length ? cfg.audit.loads.join(", ") : "(none)"}`);
  out.push(cfg.audit.needsApproval ? "approval: needed (run with --approve to approve what the audit found)" : "approval: approved");
  return out.join("\n");
}

export function registerConfigCommands(program: Command): void {
  addEvalLimitOptions(addAppOptions(
    program
      .command("config")
      .description("load an app (app.star + params.star, over its spec) and print its resolved config")
      .argument("<source>", 'the app folder, or "-" for none (spec only)'),
  ))
    .option("--app-path <[domain:]path>", "where the app would be mounted, as serve's --app-path (default: /)")
    .addOption(new Option("--path <path>", "the old name of --app-path").hideHelp())
    .addOption(new Option("--domain <domain>", "the domain, for the old --path").hideHelp())
    .option("--json", "print the config as JSON")
    .action(async (source: string, flags: ConfigFlags & EvalLimitFlags) => {
      // Loaded on use, so that other commands start without the interpreter.
      const { describePermission, loadApp, parseAppLocation, AppPathError } = await import("../runtime/index.ts");
      let where;
      try {
        where = parseAppLocation(flags.appPath ?? `${flags.domain ? `${flags.domain}:` : ""}${flags.path ?? "/"}`, "");
      } catch (err) {
        if (err instanceof AppPathError) throw new UserError(`--app-path: ${err.message}`, EXIT_USAGE);
        throw err;
      }
      const cfg = loadApp({
        ...appSettings(flags),
        source: source === "-" ? null : resolve(source),
        domain: where.domain,
        path: where.path,
        approved: flags.approve ? "all-audited" : undefined,
        approveCommand: `clace-lite config ${source} --approve`,
        print: (m) => process.stderr.write(m + "\n"),
        limits: evalLimitsOf(flags),
      });
      process.stdout.write((flags.json ? JSON.stringify(cfg, null, 2) : formatConfig(cfg, describePermission)) + "\n");
    });
}
