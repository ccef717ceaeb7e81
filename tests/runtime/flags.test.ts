/** --copt, --carg and --cvol are checked when the app is loaded: a bad one is named with its flag and the reason. */
import { afterEach, describe, expect, test } from "bun:test";
import { loadApp } from "../../src/runtime/loader.ts";
import { cleanupApps, makeApp, PROXY_APP_HEAD, runtimeError } from "./helpers.ts";

afterEach(cleanupApps);

const APP = `${PROXY_APP_HEAD}
app = ace.app("f",
    routes = [ace.proxy("/", proxy.config(container.URL))],
    container = container.config(container.AUTO, port = 8080),
    permissions = [
        ace.permission("proxy.in", "config", [container.URL]),
        ace.permission("container.in", "config", [container.AUTO]),
    ],
)
`;

function load(over: { copts?: Record<string, string>; cargs?: Record<string, string>; cvols?: string[] }) {
  const dir = makeApp({ "app.star": APP, Containerfile: "FROM scratch\n" });
  return () => loadApp({ source: dir, approved: "all-audited", ...over });
}

describe("container flags are checked at load", () => {
  test("an unknown --copt is refused, named with its flag, with the options there are", () => {
    const err = runtimeError(load({ copts: { "no-such-thing": "1" } }));
    expect(err.kind).toBe("config");
    expect(err.where).toBe("--copt no-such-thing=1");
    expect(err.message).toContain('"no-such-thing" is not supported');
    expect(err.fix).toContain("remove --copt no-such-thing");
    expect(err.fix).not.toContain("app.star");
  });

  test("a --copt Docker knows but clace-lite cannot honour says why", () => {
    const err = runtimeError(load({ copts: { network: "host" } }));
    expect(err.where).toBe("--copt network=host");
    expect(err.message).toContain("published on 127.0.0.1");
  });

  test("a --copt with a bad value names the value and what is expected", () => {
    const err = runtimeError(load({ copts: { memory: "lots" } }));
    expect(err.where).toBe("--copt memory=lots");
    expect(err.message).toContain("a size such as 512m");
    expect(err.fix).toContain("--copt memory=");
    expect(runtimeError(load({ copts: { pid: "everything" } })).where).toBe("--copt pid=everything");
  });

  test("options that widen reach are accepted (the approval lists them)", () => {
    const cfg = load({ copts: { privileged: "", "cap-add": "NET_ADMIN", device: "/dev/fuse", pid: "host" } })();
    expect(cfg.container!.options).toEqual({ privileged: "", "cap-add": "NET_ADMIN", device: "/dev/fuse", pid: "host" });
  });

  test("gpus, security-opt and sysctl are reach (the approval lists them); dns, add-host, ulimit and label are not", () => {
    const cfg = load({
      copts: { gpus: "all", "security-opt": "seccomp=unconfined", sysctl: "net.core.somaxconn=1024", dns: "192.0.2.2", "add-host": "db:192.0.2.5", ulimit: "nofile=4096", label: "team=web" },
    })();
    expect(cfg.audit.reach).toEqual([
      { kind: "option", option: "gpus", value: "all" },
      { kind: "option", option: "security-opt", value: "seccomp=unconfined" },
      { kind: "option", option: "sysctl", value: "net.core.somaxconn=1024" },
    ]);
    expect(runtimeError(load({ copts: { ulimit: "nofile=9:1" } })).where).toBe("--copt ulimit=nofile=9:1");
  });

  test("a --carg whose name is not a build arg name is refused", () => {
    const err = runtimeError(load({ cargs: { "1x": "2" } }));
    expect(err.where).toBe("--carg 1x");
    expect(err.fix).toBe("give --carg NAME=value");
  });

  test("a malformed --cvol is refused, naming --cvol", () => {
    const err = runtimeError(load({ cvols: ["/a:/b:/c:/d"] }));
    expect(err.where).toBe("--cvol");
    expect(err.message).toContain("too many");
  });
});
