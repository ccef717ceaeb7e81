/**
 * Container options (Clace's `--copt`) mapped onto Engine API fields. Clace appends them verbatim to `docker run`;
 * over the API each needs a mapping, so only known ones are accepted and any other is an error that names it.
 */
import { EngineError } from "./engine.ts";

export interface MappedOptions {
  hostConfig: Record<string, unknown>;
  user?: string;
  workingDir?: string;
  env: Record<string, string>;
}

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
] as const;

/**
 * Options that widen what the container can reach on the host (capabilities, devices, the host's PID or IPC
 * namespace, everything at once). They are part of what an approval covers (runtime/reach.ts).
 */
export const WIDENING_OPTIONS: ReadonlySet<string> = new Set(["privileged", "cap-add", "device", "pid", "ipc"]);

/** The option's canonical name: `--copt -m` and `--copt memory` are one option. */
export function optionName(rawKey: string): string {
  const key = rawKey.replace(/^-+/, "");
  return { m: "memory", c: "cpu-shares", u: "user", w: "workdir", e: "env" }[key] ?? key;
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
};

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
  const out: MappedOptions = { hostConfig: {}, env: {} };
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
