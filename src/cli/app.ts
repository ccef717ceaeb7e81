/** `clace-lite app ...` and `clace-lite param ...`: client commands for the multi-app server's admin API. */
import { Option, type Command } from "commander";
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { reachLines } from "./reach-output.ts";
import type { AppStatus, CreateAppRequest, ParamStatus } from "../server/index.ts";
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

/**
 * Prints what a command did to each app it matched. Nothing matched, or a reload refused, is a failure (exit 1):
 * a script that approves or deletes the wrong glob must not carry on as if it had worked.
 */
function printResult(apps: AppStatus[], verb: string, glob: string, json: boolean, withReach = false): void {
  if (json) process.stdout.write(JSON.stringify(apps, null, 2) + "\n");
  if (apps.length === 0) throw new UserError(`no app matches ${glob}; nothing ${verb} (see: clace-lite app list)`);
  let refused = 0;
  for (const app of apps) {
    if (app.reload && !app.reload.ok) {
      refused++;
      if (!json) process.stderr.write(`error: ${app.location}: reload failed, still serving the previous version: ${app.reload.error ?? ""}\n`);
      continue;
    }
    if (json) continue;
    const changes = app.reload?.changes.length ? ` (${app.reload.changes.join(", ")})` : "";
    process.stdout.write(`${verb} ${app.location}${changes}${app.error ? `: ${app.error}` : ""}\n`);
    for (const approval of app.approvals ?? []) process.stdout.write(`  ${approval}\n`);
    if (withReach) process.stdout.write(reachLines(app.reach));
  }
  if (refused > 0) throw new UserError(`${refused} of ${apps.length} app(s) not reloaded`);
}

/**
 * A source that names a local folder is resolved here, against the client's working directory: the server runs
 * elsewhere, and stores the absolute path so that a later reload finds the same folder.
 */
function clientSidePath(source: string): string {
  if (source === "-" || isAbsolute(source) || /^[a-z][a-z0-9+.-]*:\/\//i.test(source) || /^git@[^:]+:/.test(source)) return source;
  return existsSync(source) || /^\.\.?(\/|$)/.test(source) ? resolve(source) : source;
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
    .option("--json", "print the result as JSON")
    .action(async (source: string, location: string, opts) => {
      const request: CreateAppRequest = {
        source: clientSidePath(source),
        location,
        ...appSettings(opts),
        dev: opts.dev ?? false,
        branch: opts.branch,
        commit: opts.commit,
      };
      const created = await new AdminClient().json<AppStatus>("POST", "/v1/apps", request);
      if (opts.json) {
        process.stdout.write(JSON.stringify(created, null, 2) + "\n");
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
    .option("--json", "print the result as JSON")
    .action(async (glob: string, opts) => {
      printResult(await new AdminClient().json<AppStatus[]>("DELETE", `/v1/apps?glob=${encodeURIComponent(glob)}`), "deleted", glob, opts.json);
    });

  app
    .command("approve")
    .description("approve the plugins and permissions apps ask for")
    .argument("<glob>", "which apps")
    .option("--json", "print the result as JSON")
    .action(async (glob: string, opts) => {
      printResult(await new AdminClient().json<AppStatus[]>("POST", `/v1/apps/approve?glob=${encodeURIComponent(glob)}`), "approved", glob, opts.json, true);
    });

  app
    .command("reload")
    .description("re-read apps' sources; rebuild when they changed, re-pull image apps")
    .argument("<glob>", "which apps")
    .option("-a, --approve", "approve what the new version asks for")
    .option("--json", "print the result as JSON")
    .action(async (glob: string, opts) => {
      const path = `/v1/apps/reload?glob=${encodeURIComponent(glob)}&approve=${opts.approve ? "true" : "false"}`;
      printResult(await new AdminClient().json<AppStatus[]>("POST", path), "reloaded", glob, opts.json, opts.approve);
    });

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
    .option("--json", "print the result as JSON")
    .action(async (name: string, value: string, glob: string, opts) => {
      const apps = await new AdminClient().json<AppStatus[]>("POST", "/v1/params", { name, value: value === "-" ? null : value, glob });
      printResult(apps, "updated", glob, opts.json);
    });
}
