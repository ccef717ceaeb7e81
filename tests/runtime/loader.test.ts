import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { CONTAINER_URL } from "../../src/runtime/app-config.ts";
import { auditApp, loadApp, type LoadOptions } from "../../src/runtime/loader.ts";
import { cleanupApps, makeApp, runtimeError } from "./helpers.ts";

afterAll(cleanupApps);

const hello = join(import.meta.dir, "..", "..", "examples", "hello");
const BUSYBOX = "FROM busybox\nEXPOSE 8080\n";

/** An app folder with the given app.star (and optional params.star), a Containerfile exposing 8080. */
function app(appStar: string, extra: Record<string, string> = {}): string {
  return makeApp({ "app.star": appStar, Containerfile: BUSYBOX, ...extra });
}

const STD_PERMS = `permissions=[ace.permission("proxy.in", "config", [container.URL]),
                 ace.permission("container.in", "config", [container.AUTO])]`;

function stdApp(body = "", appArgs = ""): string {
  return `load("proxy.in", "proxy")
load("container.in", "container")
${body}
app = ace.app("t", routes=[ace.proxy("/", proxy.config(container.URL))],
              container=container.config(container.AUTO), ${STD_PERMS}${appArgs})
`;
}

const load = (o: LoadOptions) => loadApp({ approved: "all-audited", ...o });

describe("the example app", () => {
  test("examples/hello loads into a container app proxied at /", () => {
    const cfg = load({ source: hello, path: "/hello", appId: "app_x" });
    expect(cfg.name).toBe("hello");
    expect(cfg.path).toBe("/hello");
    expect(cfg.routes).toEqual([
      { path: "/", url: CONTAINER_URL, stripPath: "", preserveHost: false, stripApp: true, responseHeaders: {} },
    ]);
    expect(cfg.container).toMatchObject({
      appId: "app_x",
      appName: "/hello",
      image: { kind: "build", contextDirs: [hello], containerFile: "Containerfile", buildArgs: {} },
      port: 8080,
      scheme: "http",
      healthPath: "/",
      lifetime: "app",
      env: { CL_APP_PATH: "/hello", PORT: "8080" },
      volumes: [],
    });
    expect(cfg.audit).toEqual({
      loads: ["proxy.in", "container.in"],
      permissions: [
        { plugin: "proxy.in", method: "config", arguments: [CONTAINER_URL] },
        { plugin: "container.in", method: "config", arguments: ["auto"] },
      ],
      reach: [],
      needsApproval: false,
    });
  });
});

describe("approval", () => {
  test("inspecting without an approval reports that one is needed", () => {
    const cfg = loadApp({ source: hello });
    expect(cfg.audit.needsApproval).toBe(true);
    expect(cfg.container?.port).toBe(8080);
  });

  test("an unapproved plugin load names the plugin, the place and the approve command", () => {
    const e = runtimeError(() => loadApp({ source: hello, path: "/hello", approved: { loads: [], permissions: [] } }));
    expect(e.kind).toBe("not-approved");
    expect(e.message).toContain("app is not permitted to load plugin proxy.in: it needs approval");
    expect(e.where).toMatch(/^app\.star:2:\d+$/);
    expect(e.fix).toBe("approve the app's plugins and permissions with `clace-lite app approve /hello`");
    expect(e.render()).toContain("fix: approve the app's plugins and permissions with `clace-lite app approve /hello`");
  });

  test("an unapproved call names the call", () => {
    const e = runtimeError(() =>
      loadApp({ source: hello, approved: { loads: ["proxy.in", "container.in"], permissions: [] }, approveCommand: "X" }),
    );
    expect(e.kind).toBe("not-approved");
    expect(e.message).toContain('the call proxy.in.config("<CONTAINER_URL>") is not approved');
    expect(e.fix).toContain("`X`");
  });

  test("a call no declared permission covers fails even with --approve, at its file:line:col", () => {
    const dir = app(`load("proxy.in", "proxy")
load("container.in", "container")
app = ace.app("t",
    routes=[ace.proxy("/", proxy.config("http://127.0.0.1:9999"))],
    permissions=[ace.permission("proxy.in", "config", [container.URL])])
`);
    const e = runtimeError(() => load({ source: dir }));
    expect(e.kind).toBe("config");
    expect(e.message).toContain('the call proxy.in.config("http://127.0.0.1:9999") is not permitted: no permission in ace.app(permissions=[...]) covers it');
    expect(e.where).toMatch(/^app\.star:4:\d+$/);
    expect(e.fix).toContain('add ace.permission("proxy.in", "config", ["http://127.0.0.1:9999"])');
  });

  test("regex: permissions approve matching calls", () => {
    const dir = app(`load("proxy.in", "proxy")
app = ace.app("t",
    routes=[ace.proxy("/", proxy.config("http://127.0.0.1:9999"))],
    permissions=[ace.permission("proxy.in", "config", ["regex:http://127\\\\.0\\\\.0\\\\.1:[0-9]+"])])
`);
    const cfg = load({ source: dir });
    expect(cfg.routes[0]!.url).toBe("http://127.0.0.1:9999");
    expect(cfg.container).toBeUndefined();
  });

  test("a stored approval that covers the app passes; auditApp reports the same lists", () => {
    const audit = auditApp({ source: hello });
    expect(audit.needsApproval).toBe(true);
    const cfg = loadApp({ source: hello, approved: { loads: audit.loads, permissions: audit.permissions } });
    expect(cfg.audit.needsApproval).toBe(false);
    expect(auditApp({ source: hello, approved: "all-audited" }).needsApproval).toBe(false);
  });
});

describe("app.star errors", () => {
  test("a syntax error gives file:line:col and a caret", () => {
    const e = runtimeError(() => load({ source: app('load("proxy.in", "proxy")\napp = ace.app("t",\n  routes=[)\n') }));
    expect(e.kind).toBe("starlark");
    expect(e.where).toMatch(/^app\.star:3:\d+$/);
    expect(e.render()).toContain("^");
  });

  test("an undefined name is reported where it is used", () => {
    const e = runtimeError(() => load({ source: app('app = ace.app(nme)\n') }));
    expect(e.kind).toBe("starlark");
    expect(e.where).toBe("app.star:1:15");
    expect(e.message).toContain("undefined: nme");
  });

  test("no `app` binding is a clear error", () => {
    const e = runtimeError(() => load({ source: app('x = ace.app("t")\n') }));
    expect(e.message).toBe("app.star does not define `app`");
    expect(e.fix).toContain("app = ace.app(");
  });

  test("`app` bound to something else is a clear error", () => {
    expect(runtimeError(() => load({ source: app('app = {"name": "t"}\n') })).message).toContain(
      "`app` in app.star is not the result of ace.app(...)",
    );
  });

  test("a missing app.star says to add one or pick a spec", () => {
    const e = runtimeError(() => load({ source: makeApp({ "x.txt": "" }) }));
    expect(e.message).toContain("no app.star in");
    expect(e.fix).toContain("--spec NAME");
  });

  test("a runtime error in app.star carries the position and a backtrace", () => {
    const e = runtimeError(() => load({ source: app('def f(x):\n    return x + 1\n\napp = f("a")\n') }));
    expect(e.kind).toBe("starlark");
    expect(e.where).toMatch(/^app\.star:2:\d+$/);
    expect(e.render()).toContain("Traceback");
  });

  test("recursion and while loops are allowed (Clace's dialect)", () => {
    const cfg = load({
      source: app(
        stdApp(
          `def fact(n):\n    return 1 if n <= 1 else n * fact(n - 1)\nn = 0\ndef count():\n    i = 0\n    while i < 3:\n        i += 1\n    return i\n`,
        ).replace('ace.app("t"', 'ace.app("t" + str(fact(4)) + str(count())'),
      ),
    });
    expect(cfg.name).toBe("t243");
  });

  test("a runaway config is stopped by the step limit", () => {
    const e = runtimeError(() => load({ source: app("def f():\n    while True:\n        pass\nf()\n"), maxSteps: 10000 }));
    expect(e.kind).toBe("starlark");
    expect(e.message).toContain("too many steps");
  });
});

describe("ace builtins", () => {
  test("unknown keyword arguments are errors with a hint", () => {
    const e = runtimeError(() => load({ source: app(stdApp("", ", rutes=[]")) }));
    expect(e.message).toContain('ace.app: unexpected keyword argument "rutes"');
    expect(e.message).toContain("(did you mean routes?)");
    expect(e.where).toMatch(/^app\.star:4:\d+$/);
  });

  test("ace.app: missing name, bad types, settings and Clace-only features", () => {
    expect(runtimeError(() => load({ source: app("app = ace.app()\n") })).message).toContain("ace.app: missing argument for name");
    expect(runtimeError(() => load({ source: app("app = ace.app(1)\n") })).message).toContain(
      "ace.app: for parameter name: got int, want string",
    );
    expect(runtimeError(() => load({ source: app('app = ace.app("t", routes=["/"])\n') })).message).toContain(
      "ace.app: routes[0] is not a route made by ace.proxy(...)",
    );
    expect(runtimeError(() => load({ source: app('app = ace.app("t", permissions=[1])\n') })).message).toContain(
      "ace.app: permissions[0] is not made by ace.permission(...)",
    );
    expect(runtimeError(() => load({ source: app('app = ace.app("t", container="x")\n') })).message).toContain(
      "ace.app: container must be the result of container.config(...)",
    );
    const settings = load({ source: app('app = ace.app("t", settings={"a": {"b": [1, True]}}, style=ace.style("daisyui"), custom_layout=True, libraries=[])\n') });
    expect(settings.settings).toEqual({ a: { b: [1, true] } });
    expect(settings.routes).toEqual([]);
    // static_only apps serve their folder (tests/specs/static.test.ts); what they cannot be given is refused.
    const staticCfg = load({ source: app('app = ace.app("t", static_only=True)\n', { "index.htm": "x" }) });
    expect(staticCfg.staticFiles).toMatchObject({ index: "index.htm", singleFile: false });
    expect(staticCfg.routes).toEqual([expect.objectContaining({ path: "/", url: CONTAINER_URL, stripApp: true })]);
    const staticWithRoutes = runtimeError(() =>
      load({ source: app('load("proxy.in", "proxy")\napp = ace.app("t", static_only=True, routes=[ace.proxy("/", proxy.config("http://127.0.0.1:1"))])\n') }),
    );
    expect(staticWithRoutes.message).toContain("a static_only app serves its folder's files; it takes no routes and no container");
    expect(runtimeError(() => load({ source: app('app = ace.app("t", single_file=True)\n') })).message).toContain("single_file=True needs static_only=True");
    expect(runtimeError(() => load({ source: app('app = ace.app("t", static_only=True, index="../x")\n') })).message).toContain("must be a file inside the app folder");
    expect(runtimeError(() => load({ source: app('app = ace.app("t", actions=[1])\n') })).message).toContain(
      "ace.app(actions=...) is not supported",
    );
    expect(runtimeError(() => load({ source: app('app = ace.app("t", routes=[ace.html("/")])\n') })).message).toContain(
      "ace.html (Clace-rendered HTML pages) is not supported by clace-lite",
    );
  });

  test("ace.proxy: path and config are checked; duplicate paths are refused", () => {
    const head = 'load("proxy.in", "proxy")\nP = proxy.config("http://h")\n';
    const perms = ', permissions=[ace.permission("proxy.in", "config", ["http://h"])]';
    expect(runtimeError(() => load({ source: app(`${head}app = ace.app("t", routes=[ace.proxy("x", P)]${perms})\n`) })).message).toContain(
      'ace.proxy: path "x" must start with "/"',
    );
    expect(runtimeError(() => load({ source: app(`${head}app = ace.app("t", routes=[ace.proxy("/", "http://h")]${perms})\n`) })).message).toContain(
      "ace.proxy: config must be the result of proxy.config(...)",
    );
    expect(
      runtimeError(() => load({ source: app(`${head}app = ace.app("t", routes=[ace.proxy("/", P), ace.proxy("/", P)]${perms})\n`) })).message,
    ).toContain('ace.app: two routes for the path "/"');
  });

  test("ace.permission: every argument", () => {
    const cfg = load({
      source: app(
        'app = ace.app("t", permissions=[ace.permission("proxy.in", "config", ["a", "regex:b.*"], type=ace.READ, secrets=[["regex:.*"], ["K1", "K2"]]), ace.permission(plugin="container.in", method="config")])\n',
      ),
    });
    expect(cfg.permissions).toEqual([
      { plugin: "proxy.in", method: "config", arguments: ["a", "regex:b.*"], type: "READ", secrets: [["regex:.*"], ["K1", "K2"]] },
      { plugin: "container.in", method: "config", arguments: [] },
    ]);
    expect(runtimeError(() => load({ source: app('app = ace.app("t", permissions=[ace.permission("p", "m", type="BOTH")])\n') })).message).toContain(
      'ace.permission: type must be ace.READ or ace.WRITE, not "BOTH"',
    );
    expect(runtimeError(() => load({ source: app('app = ace.app("t", permissions=[ace.permission("p", "m", [1])])\n') })).message).toContain(
      "ace.permission: for parameter arguments: element 0 is not a string",
    );
    expect(runtimeError(() => load({ source: app('app = ace.app("t", permissions=[ace.permission("p")])\n') })).message).toContain(
      "ace.permission: missing argument for method",
    );
  });

  test("ace constants", () => {
    const cfg = load({
      source: app('app = ace.app(",".join([ace.GET, ace.POST, ace.PUT, ace.DELETE, ace.READ, ace.WRITE, ace.CONTAINER_URL]))\n'),
    });
    expect(cfg.name).toBe("GET,POST,PUT,DELETE,READ,WRITE,<CONTAINER_URL>");
  });
});

describe("plugins", () => {
  test("proxy.config: every argument", () => {
    const dir = app(`load("proxy.in", "proxy")
app = ace.app("t", routes=[ace.proxy("/api", proxy.config("https://example.com/base", strip_path="/v1",
    preserve_host=True, strip_app=False, response_headers={"X-Frame-Options": "DENY", "Link": "<$url>"}))],
    permissions=[ace.permission("proxy.in", "config", ["https://example.com/base"])])
`);
    expect(load({ source: dir }).routes).toEqual([
      {
        path: "/api",
        url: "https://example.com/base",
        stripPath: "/v1",
        preserveHost: true,
        stripApp: false,
        responseHeaders: { "X-Frame-Options": "DENY", Link: "<$url>" },
      },
    ]);
  });

  test("proxy.config: bad arguments", () => {
    const wrap = (call: string) =>
      app(`load("proxy.in", "proxy")\nx = ${call}\napp = ace.app("t", permissions=[ace.permission("proxy.in", "config", ["regex:.*"])])\n`);
    expect(runtimeError(() => load({ source: wrap("proxy.config(1)") })).message).toContain("proxy.config: for parameter url: got int, want string");
    expect(runtimeError(() => load({ source: wrap('proxy.config("ftp://x")') })).message).toContain(
      'proxy.config: url "ftp://x" must be an http(s) URL or container.URL',
    );
    expect(runtimeError(() => load({ source: wrap('proxy.config("http://x", strip_app="no")') })).message).toContain(
      "proxy.config: for parameter strip_app: got string, want bool",
    );
    expect(runtimeError(() => load({ source: wrap('proxy.config("http://x", response_headers=[])') })).message).toContain(
      "proxy.config: for parameter response_headers: got list, want dict",
    );
    expect(runtimeError(() => load({ source: wrap('proxy.config("http://x", strip_path="v1")') })).message).toContain(
      'proxy.config: strip_path "v1" must start with "/"',
    );
    expect(runtimeError(() => load({ source: wrap('proxy.config("http://x", timeout=3)') })).message).toContain(
      'proxy.config: unexpected keyword argument "timeout"',
    );
  });

  test("container.config: every argument and constant", () => {
    const dir = app(
      `load("proxy.in", "proxy")
load("container.in", "container")
app = ace.app("t", routes=[ace.proxy("/", proxy.config(container.URL, strip_app=False))],
    container=container.config("Dockerfile.web", port=9000, scheme="https", health="ready", lifetime="app",
        build_dir="svc", volumes=["cache:/cache", "/tmp/data"], cargs={"V": "1", "N": 2}),
    permissions=[ace.permission("proxy.in", "config", [container.URL]),
                 ace.permission("container.in", "config", ["regex:Dockerfile.*"])])
x = [container.URL, container.AUTO, container.IMAGE_PREFIX, container.COMMAND, container.NIXPACKS]
`,
      { "svc/Dockerfile.web": "FROM busybox\n" },
    );
    const cfg = load({ source: dir, path: "/p" });
    expect(cfg.container).toMatchObject({
      image: { kind: "build", contextDirs: [join(dir, "svc")], containerFile: "Dockerfile.web", buildArgs: { V: "1", N: "2" } },
      port: 9000,
      scheme: "https",
      healthPath: "/p/ready",
      lifetime: "app",
      volumes: [
        { kind: "named", name: "cache", target: "/cache", readOnly: false },
        { kind: "unnamed", target: "/tmp/data", readOnly: false },
      ],
    });
  });

  test("container.config: bad arguments", () => {
    const wrap = (call: string) =>
      app(`load("container.in", "container")\nx = ${call}\napp = ace.app("t", permissions=[ace.permission("container.in", "config")])\n`);
    const cases: [string, string][] = [
      ["container.config(port=-1)", "container.config: port must be between 0 and 65535, not -1"],
      ['container.config(port="80")', "container.config: for parameter port: got string, want int"],
      ['container.config(scheme="tcp")', 'container.config: scheme must be "http" or "https", not "tcp"'],
      ['container.config(lifetime="forever")', 'container.config: lifetime must be "app" or container.COMMAND, not "forever"'],
      ['container.config("nixpacks")', 'container.config: src "nixpacks" is not supported'],
      ['container.config(build_dir="../x")', "must be a folder inside the app source"],
      ['container.config(volumes="/x")', "container.config: for parameter volumes: got string, want list"],
      ["container.config(cargs={1: 2})", "container.config: for parameter cargs: keys must be strings"],
      ["container.config(ports=1)", 'container.config: unexpected keyword argument "ports"'],
    ];
    for (const [call, msg] of cases) expect(runtimeError(() => load({ source: wrap(call) })).message).toContain(msg);
  });

  test("lifetime=container.COMMAND is refused at load, with the reason", () => {
    const dir = makeApp({
      "app.star": `load("container.in", "container")
app = ace.app("t", container=container.config(container.AUTO, lifetime=container.COMMAND),
    permissions=[ace.permission("container.in", "config", [container.AUTO])])
`,
      Containerfile: "FROM busybox\n",
    });
    const err = runtimeError(() => load({ source: dir }));
    expect(err.message).toContain("app.star:2:");
    expect(err.message).toContain("lifetime=container.COMMAND is not supported: it is for Clace's actions (ace.action with container.run)");
  });

  test("a route to container.URL needs a container", () => {
    const dir = app(`load("proxy.in", "proxy")
load("container.in", "container")
app = ace.app("t", routes=[ace.proxy("/", proxy.config(container.URL))],
    permissions=[ace.permission("proxy.in", "config", [container.URL])])
`);
    expect(runtimeError(() => load({ source: dir })).message).toContain("a route proxies to container.URL but ace.app has no container");
  });

  test("plugins clace-lite does not provide, and container.run, are refused clearly", () => {
    const e = runtimeError(() => load({ source: app('load("http.in", "http")\napp = ace.app("t")\n') }));
    expect(e.message).toContain("cannot load plugin http.in: it is a Clace plugin that clace-lite does not provide");
    expect(e.where).toMatch(/^app\.star:1:\d+$/);
    expect(runtimeError(() => load({ source: app('load("nope.in", "x")\napp = ace.app("t")\n') })).message).toContain(
      "cannot load plugin nope.in: no such plugin",
    );
    const run = app(`load("container.in", "container")
def handler(req):
    return container.run("ls")
app = ace.app("t", permissions=[ace.permission("container.in", "run")])
x = container.run("ls")
`);
    expect(runtimeError(() => load({ source: run })).message).toContain("container.run (actions) is not supported by clace-lite");
  });

  test("plugin accounts (name.in#account) are accepted", () => {
    const dir = app(stdApp().replace('load("proxy.in", "proxy")', 'load("proxy.in#work", "proxy")'));
    expect(load({ source: dir }).audit.loads).toContain("proxy.in");
  });
});

describe("load() of sibling .star files", () => {
  test("a sibling file shares the builtins and is loaded once", () => {
    const dir = app(
      'load("lib/common.star", "route", "perms")\nload("lib/common.star", C="cont")\napp = ace.app("t", routes=[route], permissions=perms, container=C)\n',
      {
        "lib/common.star": `load("proxy.in", "proxy")
load("container.in", "container")
route = ace.proxy("/", proxy.config(container.URL))
cont = container.config(container.AUTO, port=param.port)
perms = [ace.permission("proxy.in", "config", [container.URL]), ace.permission("container.in", "config", [container.AUTO])]
`,
        "params.star": 'param("port", type=INT, default=7000)\n',
      },
    );
    const cfg = load({ source: dir });
    expect(cfg.container?.port).toBe(7000);
    expect(cfg.audit.loads).toEqual(["proxy.in", "container.in"]);
  });

  test("a load cycle is detected", () => {
    const dir = app('load("a.star", "x")\napp = ace.app("t")\n', {
      "a.star": 'load("b.star", "y")\nx = 1\n',
      "b.star": 'load("a.star", "x")\ny = 2\n',
    });
    const e = runtimeError(() => load({ source: dir }));
    expect(e.message).toContain("load cycle: app.star -> a.star -> b.star -> a.star");
  });

  test("a missing sibling file is a clear error", () => {
    expect(runtimeError(() => load({ source: app('load("nope.star", "x")\napp = ace.app("t")\n') })).message).toContain(
      'cannot load "nope.star": no such file in the app',
    );
  });
});

describe("params.star", () => {
  const params = `param("name", description="who", default="world")
param("port", type=INT, default=5000)
param("debug", type=BOOLEAN, required=False)
param("tags", type=LIST, default=["a"])
param("env", type=DICT, default={"K": "V"})
param("token", display_type=PASSWORD, required=False)
param("image")
`;
  const appStar = stdApp().replace('ace.app("t"', 'ace.app(param.name + ":" + str(param.port + 1) + ":" + str(param.debug) + ":" + param.tags[0] + ":" + param.env["K"]');

  test("params are typed in app.star, parsed from --param and reach the container env", () => {
    const cfg = load({ source: app(appStar, { "params.star": params }), params: { image: "img", debug: "true", port: "6000", EXTRA: "e" } });
    expect(cfg.name).toBe("world:6001:True:a:V");
    expect(cfg.params.map((p) => [p.name, p.type, p.value, p.required])).toEqual([
      ["name", "STRING", "world", true],
      ["port", "INT", 6000, true],
      ["debug", "BOOLEAN", true, false],
      ["tags", "LIST", ["a"], true],
      ["env", "DICT", { K: "V" }, true],
      ["token", "STRING", "", false],
      ["image", "STRING", "img", true],
      ["EXTRA", "STRING", "e", false],
    ]);
    expect(cfg.params.find((p) => p.name === "name")!.description).toBe("who");
    expect(cfg.params.find((p) => p.name === "token")!.displayType).toBe("PASSWORD");
    expect(cfg.container!.env).toEqual({
      name: "world",
      port: "6000",
      debug: "true",
      tags: '["a"]',
      env: '{"K":"V"}',
      token: "",
      image: "img",
      EXTRA: "e",
      CL_APP_PATH: "",
      PORT: "8080",
    });
  });

  test("a missing required param fails with Clace's message", () => {
    const e = runtimeError(() => load({ source: app(appStar, { "params.star": params }) }));
    expect(e.kind).toBe("param");
    expect(e.message).toBe("param image is a required param, a value has to be provided");
  });

  test("a wrong --param type names the param, the type and the value", () => {
    const e = runtimeError(() => load({ source: app(appStar, { "params.star": params }), params: { image: "i", port: "80a" } }));
    expect(e.message).toContain('invalid value "80a" for param port of type INT: expected an integer');
  });

  test("bad declarations in params.star point at the line", () => {
    const cases: [string, string][] = [
      ['param("p", type=FLOAT)\n', "undefined: FLOAT"],
      ['param("p", type="FLOAT")\n', 'param: unknown type "FLOAT"'],
      ['param("p")\nparam("p")\n', "param p is declared more than once"],
      ['param("p", type=INT, default="x")\n', 'param p: default "x" does not match its type INT'],
      ['param("p", type=INT, display_type=PASSWORD)\n', "display_type is allowed only for STRING params"],
      ['param("p", kind=1)\n', 'param: unexpected keyword argument "kind"'],
    ];
    for (const [src, msg] of cases) {
      const e = runtimeError(() => load({ source: app(stdApp(), { "params.star": src }) }));
      expect(e.message).toContain(msg);
      expect(e.where).toMatch(/^params\.star:\d+:\d+$/);
    }
  });

  test("an undeclared param is not visible as param.x", () => {
    const e = runtimeError(() => load({ source: app(stdApp("x = param.missing"), { "params.star": "" }) }));
    expect(e.kind).toBe("starlark");
    expect(e.message).toContain("missing");
  });
});

describe("--conf, --carg, --copt, --cvol", () => {
  test("conf keys reach the container settings; unknown keys are errors", () => {
    const cfg = load({ source: hello, conf: { "container.idle_shutdown_secs": "600", "container.health_url": "/up" } });
    expect(cfg.container!.settings.idleShutdownSecs).toBe(600);
    expect(cfg.container!.healthPath).toBe("/up");
    expect(runtimeError(() => load({ source: hello, conf: { "container.idle": "1" } })).kind).toBe("conf");
  });

  test("metadata args reach the container spec", () => {
    const cfg = load({ source: hello, cargs: { V: "2" }, copts: { memory: "256m" }, cvols: ["data:/data"] });
    expect(cfg.container).toMatchObject({
      image: { buildArgs: { V: "2" } },
      options: { memory: "256m" },
      volumes: [{ kind: "named", name: "data", target: "/data", readOnly: false }],
    });
  });
});
