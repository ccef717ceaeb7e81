/** `clace-lite app ...` and `clace-lite param ...`: client commands for the multi-app server's admin API. */
import { Option, type Command } from "commander";
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { reachLines } from "./reach-output.ts";
import type { AppStatus, CreateAppRequest, MetadataField, ParamStatus } from "../server/index.ts";
import { AdminClient } from "./admin-client.ts";
import { addAppOptions, appSettings } from "./options.ts";
import { UserError } from "./output.ts";

/** `app list`: requests and errors count the last five minutes; COLD START is the last one's duration. */
function printApps(apps: AppStatus[], format: string): void {
  if (format === "json") {
    process.stdout.write(JSON.stringify(apps, null, 2) + "\n");
    return;
  }
  const rows = [["PATH", "SPEC", "STATE", "REQUESTS", "ERRORS", "COLD START", "LAST REQUEST", "SOURCE"]];
  for (const app of apps) {
    const state = app.error ? (app.needsApproval ? "needs-approval" : "error") : app.state;
    const coldStart = app.lastColdStartMs > 0 ? `${(app.lastColdStartMs / 1000).toFixed(2)}s` : "-";
    rows.push([app.location, app.spec || "-", state, String(app.requests), String(app.errors), coldStart, app.lastRequest || "-", app.source + (app.dev ? " (dev)" : "")]);
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  for (const row of rows) process.stdout.write(row.map((cell, col) => cell.padEnd(widths[col]!)).join("  ").trimEnd() + "\n");
}

/** What a command does, said two ways: "reloaded /x" when done, "would reload /x" in a dry run. */
const BASE_VERB: Record<string, string> = { deleted: "delete", approved: "approve", reloaded: "reload", updated: "update" };

/** The last line of every dry run: a script reading the output can tell it from a real change. */
export const DRY_RUN_NOTE = "dry run: nothing was changed";

/**
 * Prints what a command did (or, in a dry run, would do) to each app it matched. Nothing matched, or a new version
 * refused, is a failure (exit 1), in a dry run too: a script that approves or deletes the wrong glob must not carry
 * on as if it had worked.
 */
function printResult(apps: AppStatus[], verb: string, glob: string, opts: { json?: boolean; dryRun?: boolean }, withReach = false): void {
  const { json, dryRun } = opts;
  if (json) process.stdout.write(JSON.stringify(apps, null, 2) + "\n");
  if (apps.length === 0) throw new UserError(`no app matches ${glob}; nothing ${dryRun ? "would be " : ""}${verb} (see: clace-lite app list)`);
  const base = BASE_VERB[verb] ?? verb;
  let refused = 0;
  for (const app of apps) {
    const failed = app.reload !== undefined && !app.reload.ok;
    if (dryRun && !json) printPlan(`would ${base} ${app.location}`, app.plan ?? []);
    if (failed) {
      refused++;
      const what = dryRun ? `${base} would be refused, the previous version would keep serving` : verb === "reloaded" ? "reload failed, still serving the previous version" : `${base} refused, still serving the previous version`;
      if (!json) process.stderr.write(`error: ${app.location}: ${what}: ${app.reload?.error ?? ""}\n`);
      continue;
    }
    if (json || dryRun) continue;
    const changes = app.reload?.changes.length ? ` (${app.reload.changes.join(", ")})` : "";
    process.stdout.write(`${verb} ${app.location}${changes}${app.error ? `: ${app.error}` : ""}\n`);
    for (const approval of app.approvals ?? []) process.stdout.write(`  ${approval}\n`);
    if (withReach) process.stdout.write(reachLines(app.reach));
  }
  if (dryRun && !json) process.stdout.write(DRY_RUN_NOTE + "\n");
  if (refused > 0) throw new UserError(`${refused} of ${apps.length} app(s) ${dryRun ? "would not be" : "not"} ${verb}`);
}

/** A dry run's plan: a heading, then one indented line per step (a step's own lines indented further). */
function printPlan(heading: string, plan: readonly string[]): void {
  process.stdout.write(`${heading}:\n`);
  for (const step of plan) process.stdout.write(`  ${step.replaceAll("\n", "\n    ")}\n`);
}

/**
 * A source that names a local folder is resolved here, against the client's working directory: the server runs
 * elsewhere, and stores the absolute path so that a later reload finds the same folder.
 */
function clientSidePath(source: string): string {
  if (source === "-" || isAbsolute(source) || /^[a-z][a-z0-9+.-]*:\/\//i.test(source) || /^git@[^:]+:/.test(source)) return source;
  return existsSync(source) || /^\.\.?(\/|$)/.test(source) ? resolve(source) : source;
}

const DRY_RUN_FLAG = "--dry-run";

function dryRunQuery(opts: { dryRun?: boolean }): string {
  return opts.dryRun ? "&dry_run=true" : "";
}

/** `app update-metadata <what>`: Clace's names, each with Clace's long alias. */
const UPDATE_METADATA: readonly { field: MetadataField; aliases: string[]; args: string; description: string }[] = [
  { field: "spec", aliases: [], args: "<spec> <glob>", description: "use another app spec (- for none)" },
  { field: "conf", aliases: ["app-config"], args: "<key=value...> <glob>", description: "set app-config keys (key=- removes one)" },
  { field: "copt", aliases: ["container-option"], args: "<key[=value]...> <glob>", description: "set container options (key=- removes one)" },
  { field: "carg", aliases: ["container-arg"], args: "<key=value...> <glob>", description: "set container build args (key=- removes one)" },
  { field: "cvol", aliases: ["container-volumes", "container-volume"], args: "<volume...> <glob>", description: "replace the container volumes (- alone: none)" },
];

function registerUpdateMetadata(app: Command): void {
  const update = app
    .command("update-metadata")
    .description("change apps' spec, app-config, container options, build args or volumes; each app keeps its id and volumes and is reloaded");
  for (const { field, aliases, args, description } of UPDATE_METADATA) {
    update
      .command(field)
      .aliases(aliases)
      .description(`${description}; the app is reloaded (built first, switched once ready)`)
      .usage(`[options] ${args}`)
      .argument("<values...>", args.replace(/ <glob>$/, "") + ", then the app path glob (/x, /x/*, domain:**, all)")
      .option("-a, --approve", "approve what the changed app asks for (new volumes or widening options)")
      .option(DRY_RUN_FLAG, "check the change and say what it would do; change nothing")
      .option("-p, --promote", "accepted as Clace has it; changes apply at once (clace-lite has no staging apps)")
      .option("--json", "print the result as JSON")
      .action(async (values: string[], opts: { approve?: boolean; dryRun?: boolean; json?: boolean }) => {
        if (values.length < 2) throw new UserError(`update-metadata ${field} takes ${args}`);
        const glob = values.at(-1)!;
        const body = { update: { field, entries: values.slice(0, -1) }, glob, approve: opts.approve ?? false, dryRun: opts.dryRun ?? false };
        printResult(await new AdminClient().json<AppStatus[]>("POST", "/v1/apps/metadata", body), "updated", glob, opts, opts.approve);
      });
  }
}

export function registerAppCommands(program: Command): void {
  const app = program.command("app").description("create and manage apps on the running server");

  addAppOptions(
    app
      .command("create")
      .description("create an app from a folder, a git repo, or - (spec only), at [domain:]path")
      .argument("<source>", "a folder, a git source (github.com/org/repo[/dir], https://host/repo.git[#dir], file:///repo[/dir], a folder in a local repo with --branch), or - for none")
      .argument("<path>", "where the app lives: /x, domain:/x, or sub.:/x"),
  )
    .option("-d, --dev", "dev mode: serve the folder live, rebuilding on changes")
    .option("-b, --branch <branch>", "git branch")
    .option("-c, --commit <sha>", "git commit")
    .option(DRY_RUN_FLAG, "check the source and options and say what would be created; change nothing")
    .option("--json", "print the result as JSON")
    .action(async (source: string, location: string, opts) => {
      const request: CreateAppRequest = {
        source: clientSidePath(source),
        location,
        ...appSettings(opts),
        dev: opts.dev ?? false,
        branch: opts.branch,
        commit: opts.commit,
        dryRun: opts.dryRun ?? false,
      };
      const created = await new AdminClient().json<AppStatus>("POST", "/v1/apps", request);
      if (opts.json) {
        process.stdout.write(JSON.stringify(created, null, 2) + "\n");
        return;
      }
      if (request.dryRun) {
        printPlan(`would create ${created.location} at ${created.url}`, created.plan ?? []);
        process.stdout.write(DRY_RUN_NOTE + "\n");
        return;
      }
      process.stdout.write(`created ${created.location} at ${created.url}\n`);
      if (request.approve) process.stdout.write(reachLines(created.reach));
      if (created.needsApproval) {
        process.stdout.write(`permissions need to be approved: clace-lite app approve ${created.location}\n`);
      } else if (created.error) {
        process.stdout.write(`the app does not load yet: ${created.error}\n`);
      }
    });

  app
    .command("list")
    .description("list apps")
    .argument("[glob]", "which apps: /x, /x/*, domain:**, or all (the default)")
    .option("--json", "print the apps as JSON")
    .addOption(new Option("-f, --format <format>", "table or json (--format json is --json)").choices(["table", "json"]))
    .action(async (glob: string | undefined, opts: { json?: boolean; format?: string }) => {
      const format = opts.json || opts.format === "json" ? "json" : "table";
      printApps(await new AdminClient().json<AppStatus[]>("GET", `/v1/apps?glob=${encodeURIComponent(glob ?? "all")}`), format);
    });

  app
    .command("delete")
    .description("delete apps, with their containers and images")
    .argument("<glob>", "which apps")
    .option(DRY_RUN_FLAG, "list what would be removed; change nothing")
    .option("--json", "print the result as JSON")
    .action(async (glob: string, opts) => {
      const path = `/v1/apps?glob=${encodeURIComponent(glob)}${dryRunQuery(opts)}`;
      printResult(await new AdminClient().json<AppStatus[]>("DELETE", path), "deleted", glob, opts);
    });

  app
    .command("approve")
    .description("approve the plugins and permissions apps ask for")
    .argument("<glob>", "which apps")
    .option(DRY_RUN_FLAG, "say what would be approved (and which waiting change applied); change nothing")
    .option("--json", "print the result as JSON")
    .action(async (glob: string, opts) => {
      const path = `/v1/apps/approve?glob=${encodeURIComponent(glob)}${dryRunQuery(opts)}`;
      printResult(await new AdminClient().json<AppStatus[]>("POST", path), "approved", glob, opts, true);
    });

  app
    .command("reload")
    .description("re-read apps' sources; rebuild when they changed, re-pull image apps")
    .argument("<glob>", "which apps")
    .option("-a, --approve", "approve what the new version asks for")
    .option(DRY_RUN_FLAG, "read the source and check the new version; say what would change, build and restart nothing")
    .option("--json", "print the result as JSON")
    .action(async (glob: string, opts) => {
      const path = `/v1/apps/reload?glob=${encodeURIComponent(glob)}&approve=${opts.approve ? "true" : "false"}${dryRunQuery(opts)}`;
      printResult(await new AdminClient().json<AppStatus[]>("POST", path), "reloaded", glob, opts, opts.approve);
    });

  registerUpdateMetadata(app);

  for (const verb of ["stop", "start"] as const) {
    app
      .command(verb)
      .description(verb === "stop" ? "stop an app's container (it starts again on the next request)" : "start an app's container now")
      .argument("<app>", "the app's [domain:]path")
      .action(async (target: string) => {
        const status = await new AdminClient().json<AppStatus>("POST", `/v1/apps/${verb}?app=${encodeURIComponent(target)}`);
        process.stdout.write(`${status.location}: ${status.state}\n`);
      });
  }

  app
    .command("logs")
    .description("show an app's container logs")
    .argument("<app>", "the app's [domain:]path")
    .option("-f, --follow", "keep streaming new lines")
    .action(async (target: string, opts) => {
      const path = `/v1/apps/logs?app=${encodeURIComponent(target)}&follow=${opts.follow ? "true" : "false"}`;
      const response = await new AdminClient().request("GET", path);
      for await (const chunk of response.body!) process.stdout.write(chunk);
    });

  const param = program.command("param").description("list and update app params");
  param
    .command("list")
    .description("list an app's params and their values")
    .argument("<app>", "the app's [domain:]path")
    .option("--json", "print as JSON")
    .action(async (target: string, opts) => {
      const params = await new AdminClient().json<ParamStatus[]>("GET", `/v1/params?app=${encodeURIComponent(target)}`);
      if (opts.json) {
        process.stdout.write(JSON.stringify(params, null, 2) + "\n");
        return;
      }
      for (const p of params) process.stdout.write(`${p.name} (${p.type}) = ${JSON.stringify(p.value)}${p.origin === "default" ? "  [default]" : ""}\n`);
    });
  param
    .command("update")
    .description("set a param (- removes the value, back to its default); the app reloads")
    .argument("<name>", "the param")
    .argument("<value>", "the new value, or - to remove it")
    .argument("<glob>", "which apps")
    .option(DRY_RUN_FLAG, "check the value and say what would change; change nothing")
    .option("--json", "print the result as JSON")
    .action(async (name: string, value: string, glob: string, opts) => {
      const apps = await new AdminClient().json<AppStatus[]>("POST", "/v1/params", { name, value: value === "-" ? null : value, glob, dryRun: opts.dryRun ?? false });
      printResult(apps, "updated", glob, opts);
    });
}
