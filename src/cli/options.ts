/** Shared option parsing for commands: repeatable `k=v` flags and simple value checks. */
import { InvalidArgumentError, type Command } from "commander";

/**
 * Collects a repeatable `--param k=v` style option into a record; a value without "=" is a usage error, unless
 * `bare` allows a lone name (Clace's `--copt k[=v]`: a container option may be a flag), which gets "".
 */
export function collectKeyValue(flag: string, bare = false): (value: string, previous: Record<string, string> | undefined) => Record<string, string> {
  return (value, previous = {}) => {
    const eq = value.indexOf("=");
    if (eq < 0 && bare && value) return { ...previous, [value]: "" };
    if (eq <= 0) throw new InvalidArgumentError(`${flag} takes key=value, got "${value}"`);
    return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
  };
}

/** Collects a repeatable option into a list. */
export function collectList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`not a port number: "${value}"`);
  return port;
}

/** The options that describe an app, as `app create`, `serve` and `check` all take them (Clace's names). */
/** Repeatable flags have no default in the help text (`(default: {})` says nothing); absent means none given. */
export interface AppFlags {
  spec?: string;
  param?: Record<string, string>;
  conf?: Record<string, string>;
  copt?: Record<string, string>;
  carg?: Record<string, string>;
  cvol?: string[];
  approve?: boolean;
}

export function addAppOptions(command: Command): Command {
  return command
    .option("--spec <name>", "the app spec to use as the base (see: clace-lite spec list)")
    .option("-p, --param <key=value>", "a param value (repeatable)", collectKeyValue("--param"))
    .option("--conf <key=value>", "an app-config value such as container.idle_shutdown_secs=60 (repeatable)", collectKeyValue("--conf"))
    .option("--copt <key[=value]>", "a container option such as memory=512m (repeatable)", collectKeyValue("--copt", true))
    .option("--carg <key=value>", "a container build arg (repeatable)", collectKeyValue("--carg"))
    .option("--cvol <volume>", "a container volume (repeatable)", collectList)
    .option("-a, --approve", "approve the plugins and permissions the app asks for");
}

/** The app flags in the shape the layers below take them (CreateAppRequest, SingleAppOptions). */
export function appSettings(flags: AppFlags) {
  return {
    spec: flags.spec,
    params: flags.param ?? {},
    conf: flags.conf ?? {},
    copts: flags.copt ?? {},
    cargs: flags.carg ?? {},
    cvols: flags.cvol ?? [],
    approve: flags.approve ?? false,
  };
}

