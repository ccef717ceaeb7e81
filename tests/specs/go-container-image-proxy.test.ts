/**
 * The go, container, image and proxy specs serve a real request through clace-lite and the real engine: at the
 * root (check) and at a sub path (server + app create). Go builds FROM the offline golang/alpine stand-ins exactly
 * as the spec is written; container and image run busybox httpd, whose CGI shows what the app received.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { collectContext, contextTar } from "../../src/containers/index.ts";
import { testEngine } from "../fixtures/engine.ts";
import { BUSYBOX_IMAGE, busyboxImage, FIXTURE_LABEL, once } from "../fixtures/images.ts";
import { removeGoBuildStages, specBaseImages } from "../fixtures/spec-bases.ts";
import { GO_MAIN, GO_MOD } from "./apps.ts";
import { appDir, checkAtRoot, removeAppDirs, SpecServer, takeColdStartTable } from "./helpers.ts";

/** An image that serves /www on 8080 by itself, for the image spec. */
const WEB_IMAGE = "clace-lite-test/spec-web:1";

/** busybox httpd files: an index, and a CGI script that prints what the app received and its environment. */
const WEB_FILES = {
  "www/index.html": "busybox index\n",
  "www/cgi-bin/whoami": {
    content: '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\necho "uri=$REQUEST_URI app_path=$CL_APP_PATH port=$PORT"\n',
    mode: 0o755,
  },
};
const WEB_CONTAINERFILE = `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`;

const server = new SpecServer();
let upstream: ReturnType<typeof Bun.serve> | undefined;

beforeAll(async () => {
  const engine = await testEngine();
  await Promise.all([specBaseImages(engine), busyboxImage(engine)]);
  await once(
    WEB_IMAGE,
    async () => {
      const dir = appDir({ Containerfile: WEB_CONTAINERFILE, ...WEB_FILES });
      await engine.build({ context: contextTar(collectContext([dir], "Containerfile")), tag: WEB_IMAGE, containerFile: "Containerfile", labels: { [FIXTURE_LABEL]: "spec-web" } });
    },
    engine,
  );
  // The proxy spec's upstream: answers with what it received.
  upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      return new Response(`upstream got ${req.method} ${url.pathname}${url.search} prefix=${req.headers.get("x-forwarded-prefix") ?? ""}\n`);
    },
  });
  await server.start();
}, 600_000);

afterAll(async () => {
  await server.stop();
  await removeGoBuildStages(await testEngine());
  upstream?.stop(true);
  removeAppDirs();
  console.log(takeColdStartTable());
});

describe("go", () => {
  // No go.sum: the module has no dependencies.
  const source = () => appDir({ "go.mod": GO_MOD, "main.go": GO_MAIN });

  test("builds a dependency-free module (no go.sum) and serves it at /", async () => {
    await checkAtRoot({ spec: "go", source: source(), params: { port: "8080" }, path: "/hello", expectBody: '^go at /hello; app path ""; args \\[\\]' });
  });

  test("serves at a sub path, with APP_ARGS passed to the program", async () => {
    const first = await server.create({ spec: "go", source: source(), path: "/goapp", params: { port: "8080", APP_ARGS: "--flag value" } });
    expect(first).toMatchObject({ status: 200, body: 'go at /; app path "/goapp"; args ["--flag" "value"]\n' });
    expect(await server.get("/goapp/a/b?c=d")).toMatchObject({ status: 200, body: 'go at /a/b; app path "/goapp"; args ["--flag" "value"]\n' });
  });
});

describe("go build args", () => {
  test("APP_NAME names the binary, BUILD_FLAGS reach go build, GOOS/GOARCH set the target, MAIN_PACKAGE picks the package", async () => {
    const source = appDir({
      "go.mod": GO_MOD,
      "cmd/web/main.go": `package main

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
)

var flavor = "plain"

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s %s/%s\\n", os.Args[0], flavor, runtime.GOOS, runtime.GOARCH)
	})
	http.ListenAndServe(":"+os.Getenv("PORT"), nil)
}
`,
      "cmd/web/tagged.go": "//go:build clace\n\npackage main\n\nfunc init() { flavor = \"tagged\" }\n",
    });
    const extra = ["--carg", "MAIN_PACKAGE=./cmd/web", "--carg", "APP_NAME=greeter", "--carg", "BUILD_FLAGS=-tags=clace", "--carg", "GOOS=linux", "--carg", "GOARCH=amd64"];
    const first = await server.create({ spec: "go", source, path: "/goargs", params: { port: "8080" }, extra });
    expect(first).toMatchObject({ status: 200, body: "/app/greeter tagged linux/amd64\n" });
  });
});

describe("container", () => {
  const source = () => appDir({ Containerfile: WEB_CONTAINERFILE, ...WEB_FILES });

  test("builds the source's own Containerfile and serves it at /", async () => {
    await checkAtRoot({ spec: "container", source: source(), path: "/cgi-bin/whoami", expectBody: "^uri=/cgi-bin/whoami app_path= port=8080\\n$" });
  });

  test("serves at a sub path, the app path stripped", async () => {
    const first = await server.create({ spec: "container", source: source(), path: "/ctr" });
    expect(first).toMatchObject({ status: 200, body: "busybox index\n" });
    expect(await server.get("/ctr/cgi-bin/whoami")).toMatchObject({ status: 200, body: "uri=/cgi-bin/whoami app_path=/ctr port=8080\n" });
  });
});

describe("image", () => {
  const params = { image: WEB_IMAGE, port: "8080" };

  test("runs a prebuilt image with no source at /", async () => {
    await checkAtRoot({ spec: "image", source: "-", params, path: "/cgi-bin/whoami", expectBody: "^uri=/cgi-bin/whoami app_path= port=8080\\n$" });
  });

  test("runs it at a sub path", async () => {
    const first = await server.create({ spec: "image", source: "-", path: "/img", params });
    expect(first).toMatchObject({ status: 200, body: "busybox index\n" });
    expect(await server.get("/img/cgi-bin/whoami")).toMatchObject({ status: 200, body: "uri=/cgi-bin/whoami app_path=/img port=8080\n" });
  });
});

describe("proxy", () => {
  const params = () => ({ url: `http://127.0.0.1:${upstream!.port}`, response_headers: '{"X-Seen-Path": "$url"}' });

  test("proxies to its url at /", async () => {
    await checkAtRoot({ spec: "proxy", source: "-", params: params(), path: "/a?b=c", expectBody: "^upstream got GET /a\\?b=c prefix=\\n$" });
  });

  test("proxies at a sub path, the app path stripped and named in X-Forwarded-Prefix; response headers added", async () => {
    const first = await server.create({ spec: "proxy", source: "-", path: "/prx", params: params(), firstPath: "/prx/a/b?c=d" });
    expect(first).toMatchObject({ status: 200, body: "upstream got GET /a/b?c=d prefix=/prx\n" });
    expect(first.headers.get("x-seen-path")).toBe("/prx/a/b");
  });
});
