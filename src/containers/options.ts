/**
 * Container options (Clace's `--copt`) mapped onto Engine API fields. Clace appends them verbatim to `docker run`;
 * over the API each needs a mapping, so only known ones are accepted and any other is an error that names it.
 */
import { EngineError, type Ulimit } from "./engine.ts";

export interface MappedOptions {
  hostConfig: Record<string, unknown>;
  /** Top-level container Config fields (Hostname, StopSignal). */
  config: Record<string, unknown>;
  user?: string;
  workingDir?: string;
  env: Record<string, string>;
  /** Extra labels; clace-lite's own (dev.clace-lite.*) cannot be set this way. */
  labels: Record<string, string>;
  /** Limits that replace the engine defaults of the same name. */
  ulimits: Ulimit[];
}

/** Labels clace-lite sets on its containers to find and clean them; an option may not forge them. */
const OWN_LABEL_PREFIX = "dev.clace-lite.";

const SUPPORTED = [
  "memory",
  "memory-swap",
  "memory-reservation",
  "cpus",
  "cpu-shares",
  "pids-limit",
  "read-only",
  "user",
  "workdir",
  "env",
  "shm-size",
  "cap-add",
  "cap-drop",
  "tmpfs",
  "privileged",
  "device",
  "pid",
  "ipc",
  "gpus",
  "security-opt",
  "sysctl",
  "add-host",
  "dns",
  "dns-search",
  "dns-option",
  "hostname",
  "label",
  "ulimit",
  "cpuset-cpus",
  "group-add",
  "stop-signal",
  "oom-score-adj",
] as const;

/**
 * Options that widen what the container can reach on the host (capabilities, devices, the host's PID or IPC
 * namespace, everything at once). They are part of what an approval covers (runtime/reach.ts).
 */
export const WIDENING_OPTIONS: ReadonlySet<string> = new Set(["privileged", "cap-add", "device", "pid", "ipc", "gpus", "security-opt", "sysctl"]);

/** The option's canonical name: `--copt -m` and `--copt memory` are one option. */
export function optionName(rawKey: string): string {
  const key = rawKey.replace(/^-+/, "");
  return { m: "memory", c: "cpu-shares", u: "user", w: "workdir", e: "env", h: "hostname", l: "label" }[key] ?? key;
}

/** Why an option Clace passes to `docker run` is refused here even though Docker knows it. */
const REFUSED: Readonly<Record<string, string>> = {
  network: "the proxy reaches the app through its port published on 127.0.0.1, which another network mode removes",
  net: "the proxy reaches the app through its port published on 127.0.0.1, which another network mode removes",
  publish: "clace-lite publishes the app's port itself, on 127.0.0.1 only",
  p: "clace-lite publishes the app's port itself, on 127.0.0.1 only",
  volume: "volumes are given with --cvol (or container.config volumes), where the approval lists them",
  v: "volumes are given with --cvol (or container.config volumes), where the approval lists them",
  name: "clace-lite names the app's containers itself",
  mount: "volumes are given with --cvol (or container.config volumes), where the approval lists them",
  restart: "clace-lite restarts a crashed app on its next request; an engine restart policy would undo idle stops",
  rm: "clace-lite removes the containers it no longer needs itself",
  "log-driver": "clace-lite reads the container's logs through the engine, which needs its default log driver",
  "log-opt": "clace-lite reads the container's logs through the engine, which needs its default log driver",
  init: "clace-lite always starts containers with an init process",
  "network-alias": "the app runs on the engine's default network, reached through its published port",
  expose: "the app's port comes from EXPOSE or container.config(port=...)",
  entrypoint: "the container file's ENTRYPOINT and CMD decide what runs",
};

/** Values given as one comma-separated option (Record keys are unique): `--copt dns=1.1.1.1,9.9.9.9`. */
function list(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:]+(%\w+)?$/;
const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const ULIMIT_NAMES = ["core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"];

function isIp(value: string): boolean {
  return IPV4.test(value) || (value.includes(":") && IPV6.test(value));
}

/** The engine defaults with the options' limits of the same name replacing them. */
export function mergeUlimits(defaults: readonly Ulimit[], overrides: readonly Ulimit[]): Ulimit[] {
  const byName = new Map(defaults.map((u) => [u.Name, u]));
  for (const u of overrides) byName.set(u.Name, u);
  return [...byName.values()];
}

/** "512m", "1g", "1024k", "100" (bytes) → bytes. */
export function parseBytes(option: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(value.trim());
  if (!m) throw badValue(option, value, "a size such as 512m or 1g");
  const unit = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase()]!;
  return Math.round(Number(m[1]) * unit);
}

function parseBool(option: string, value: string): boolean {
  if (value === "" || value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw badValue(option, value, "true or false");
}

function parseInt10(option: string, value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw badValue(option, value, "a whole number");
  return Number(value);
}

function badValue(option: string, value: string, want: string): EngineError {
  return new EngineError("bad-option", `container option ${option}=${value} is not valid: expected ${want}`, "", `give --copt ${option}=<${want}>`);
}

export function mapOptions(options: Readonly<Record<string, string>>): MappedOptions {
  const out: MappedOptions = { hostConfig: {}, config: {}, env: {}, labels: {}, ulimits: [] };
  for (const [rawKey, value] of Object.entries(options)) {
    const key = rawKey.replace(/^-+/, "");
    switch (key) {
      case "privileged":
        out.hostConfig.Privileged = parseBool(key, value);
        break;
      case "device": {
        // host[:container[:permissions]], as docker run --device.
        const [host, inContainer, perms] = value.split(":");
        if (!host?.startsWith("/")) throw badValue(key, value, "a host device path such as /dev/fuse[:/dev/fuse[:rwm]]");
        const devices = (out.hostConfig.Devices as unknown[] | undefined) ?? [];
        devices.push({ PathOnHost: host, PathInContainer: inContainer || host, CgroupPermissions: perms || "rwm" });
        out.hostConfig.Devices = devices;
        break;
      }
      case "pid":
      case "ipc":
        if (!/^(host|private|shareable|none|container:[\w.-]+)$/.test(value)) throw badValue(key, value, "host, private or container:<name>");
        out.hostConfig[key === "pid" ? "PidMode" : "IpcMode"] = value;
        break;
      case "memory":
      case "m":
        out.hostConfig.Memory = parseBytes(key, value);
        break;
      case "memory-swap":
        out.hostConfig.MemorySwap = value === "-1" ? -1 : parseBytes(key, value);
        break;
      case "memory-reservation":
        out.hostConfig.MemoryReservation = parseBytes(key, value);
        break;
      case "cpus": {
        const n = Number(value);
        if (!Number.isFinite(n) || n <= 0) throw badValue(key, value, "a positive number of CPUs such as 0.5 or 2");
        out.hostConfig.NanoCpus = Math.round(n * 1e9);
        break;
      }
      case "cpu-shares":
      case "c":
        out.hostConfig.CpuShares = parseInt10(key, value);
        break;
      case "pids-limit":
        out.hostConfig.PidsLimit = parseInt10(key, value);
        break;
      case "read-only":
        out.hostConfig.ReadonlyRootfs = parseBool(key, value);
        break;
      case "shm-size":
        out.hostConfig.ShmSize = parseBytes(key, value);
        break;
      case "cap-add":
        out.hostConfig.CapAdd = value.split(",").map((s) => s.trim()).filter(Boolean);
        break;
      case "cap-drop":
        out.hostConfig.CapDrop = value.split(",").map((s) => s.trim()).filter(Boolean);
        break;
      case "tmpfs": {
        const [path, opts = ""] = value.split(/:(.*)/s);
        if (!path?.startsWith("/")) throw badValue(key, value, "an absolute path, optionally followed by :options");
        out.hostConfig.Tmpfs = { ...(out.hostConfig.Tmpfs as Record<string, string> | undefined), [path]: opts };
        break;
      }
      case "user":
      case "u":
        out.user = value;
        break;
      case "workdir":
      case "w":
        out.workingDir = value;
        break;
      case "env":
      case "e": {
        const i = value.indexOf("=");
        if (i <= 0) throw badValue(key, value, "NAME=value");
        out.env[value.slice(0, i)] = value.slice(i + 1);
        break;
      }
      case "gpus": {
        // all | N | device=0,1 (docker run --gpus); needs the engine's GPU support at start.
        const m = /^(?:all|(\d+)|device=([\w,.-]+))$/.exec(value.replace(/^"|"$/g, ""));
        if (!m) throw badValue(key, value, "all, a count, or device=<ids>");
        const request: Record<string, unknown> = { Driver: "", Capabilities: [["gpu"]] };
        if (m[2]) request.DeviceIDs = m[2].split(",");
        else request.Count = m[1] ? Number(m[1]) : -1;
        out.hostConfig.DeviceRequests = [request];
        break;
      }
      case "security-opt":
        if (list(value).length === 0) throw badValue(key, value, "an option such as no-new-privileges or seccomp=<profile>");
        out.hostConfig.SecurityOpt = [...((out.hostConfig.SecurityOpt as string[] | undefined) ?? []), ...list(value)];
        break;
      case "sysctl": {
        const sysctls: Record<string, string> = { ...(out.hostConfig.Sysctls as Record<string, string> | undefined) };
        for (const item of list(value)) {
          const i = item.indexOf("=");
          if (i <= 0 || !/^[a-z0-9_.\/-]+$/i.test(item.slice(0, i))) throw badValue(key, value, "name=value[,name=value], e.g. net.core.somaxconn=1024");
          sysctls[item.slice(0, i)] = item.slice(i + 1);
        }
        out.hostConfig.Sysctls = sysctls;
        break;
      }
      case "add-host": {
        const hosts = list(value).map((item) => {
          const i = item.indexOf(":");
          const name = item.slice(0, i);
          const ip = item.slice(i + 1);
          if (i <= 0 || !HOST_NAME.test(name) || !(isIp(ip) || ip === "host-gateway")) throw badValue(key, value, "name:ip[,name:ip], e.g. db.local:192.0.2.5");
          return `${name}:${ip}`;
        });
        out.hostConfig.ExtraHosts = [...((out.hostConfig.ExtraHosts as string[] | undefined) ?? []), ...hosts];
        break;
      }
      case "dns":
        if (list(value).length === 0 || !list(value).every(isIp)) throw badValue(key, value, "IP addresses, comma-separated");
        out.hostConfig.Dns = list(value);
        break;
      case "dns-search":
        if (list(value).length === 0 || !list(value).every((d) => HOST_NAME.test(d) || d === ".")) throw badValue(key, value, "domain names, comma-separated");
        out.hostConfig.DnsSearch = list(value);
        break;
      case "dns-option":
        if (list(value).length === 0) throw badValue(key, value, "resolver options such as ndots:2");
        out.hostConfig.DnsOptions = list(value);
        break;
      case "hostname":
      case "h":
        if (!HOST_NAME.test(value)) throw badValue(key, value, "a host name");
        out.config.Hostname = value;
        break;
      case "label":
      case "l":
        for (const item of list(value)) {
          const i = item.indexOf("=");
          const name = i < 0 ? item : item.slice(0, i);
          if (name === "") throw badValue(key, value, "key=value[,key=value]");
          if (name.startsWith(OWN_LABEL_PREFIX)) {
            throw new EngineError("bad-option", `container option label=${value} is not valid: ${OWN_LABEL_PREFIX}* labels are clace-lite's own`, "", "use another label name");
          }
          out.labels[name] = i < 0 ? "" : item.slice(i + 1);
        }
        break;
      case "ulimit":
        for (const item of list(value)) {
          const m = /^([a-z]+)=(-1|\d+)(?::(-1|\d+))?$/.exec(item);
          if (!m || !ULIMIT_NAMES.includes(m[1]!)) throw badValue(key, value, `name=soft[:hard] with a name among ${ULIMIT_NAMES.join(", ")}`);
          const soft = Number(m[2]);
          const hard = m[3] !== undefined ? Number(m[3]) : soft;
          if (hard !== -1 && (soft === -1 || soft > hard)) throw badValue(key, value, "a soft limit no higher than the hard one");
          out.ulimits = mergeUlimits(out.ulimits, [{ Name: m[1]!, Soft: soft, Hard: hard }]);
        }
        break;
      case "cpuset-cpus":
        if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(value)) throw badValue(key, value, "CPUs such as 0-3 or 0,2");
        out.hostConfig.CpusetCpus = value;
        break;
      case "group-add":
        if (list(value).length === 0 || !list(value).every((g) => /^[\w.-]+$/.test(g))) throw badValue(key, value, "group names or ids, comma-separated");
        out.hostConfig.GroupAdd = list(value);
        break;
      case "stop-signal":
        if (!/^(SIG)?[A-Z0-9+-]+$|^\d+$/.test(value)) throw badValue(key, value, "a signal such as SIGINT");
        out.config.StopSignal = value;
        break;
      case "oom-score-adj": {
        const n = parseInt10(key, value);
        if (n < -1000 || n > 1000) throw badValue(key, value, "a number from -1000 to 1000");
        out.hostConfig.OomScoreAdj = n;
        break;
      }
      default:
        throw new EngineError(
          "bad-option",
          `container option "${rawKey}" is not supported${REFUSED[key] ? `: ${REFUSED[key]}` : ""}`,
          "",
          `remove --copt ${rawKey}; the options are: ${SUPPORTED.join(", ")}`,
        );
    }
  }
  return out;
}
