/**
 * Secrets and secret templates end to end, through `clace-lite server` and the real engine:
 *   - the bundled python-streamlit spec's own secrets.toml.tmpl (a Go `range` over the params) is rendered and
 *     mounted where Streamlit reads it (the app's Containerfile, which wins over the spec's, serves that file);
 *   - `{{secret "env" "NAME"}}` and `{{secret_from "prop" "NAME"}}` in params reach the container's environment,
 *     and a secret the app's permission does not allow is refused with the reason.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, tempHome } from "../cli/helpers.ts";
import { testEngine } from "../fixtures/engine.ts";
import { BUSYBOX_IMAGE, busyboxImage } from "../fixtures/images.ts";
import { appDir, removeAppDirs, SpecServer } from "./helpers.ts";

const TOKEN = `tok-${process.pid}-${Date.now()}`;
const propsDir = mkdtempSync(join(tmpdir(), "clace-lite-props-"));
const propsFile = join(propsDir, "secrets.properties");
writeFileSync(propsFile, `# app secrets\ndb.password = from-props-${process.pid}\n`);
const server = new SpecServer({ CL16_TOKEN: TOKEN, CL_SECRETS_PROPERTIES: propsFile });

beforeAll(async () => {
  await busyboxImage(await testEngine());
  await server.start();
}, 120_000);

afterAll(async () => {
  await server.stop();
  removeAppDirs();
  rmSync(propsDir, { recursive: true, force: true });
});

/** A container that publishes its environment (and, for streamlit, the rendered secrets file) over HTTP. */
const envServer = (port: number, opts: { underAppPath?: boolean; extra?: string } = {}) =>
  [
    `FROM ${BUSYBOX_IMAGE}`,
    `EXPOSE ${port}`,
    // strip_app=False (streamlit) forwards the app path: the files are served under it.
    `CMD ["/bin/sh", "-c", "d=/www${opts.underAppPath ? "$CL_APP_PATH" : ""}; mkdir -p $d/_stcore; echo ok > $d/_stcore/health; echo up > $d/index.html; env | sort > $d/env.txt; ${opts.extra ?? ""} exec httpd -f -p ${port} -h /www"]`,
    "",
  ].join("\n");

describe("python-streamlit secrets.toml.tmpl", () => {
  test("is rendered with range over every param into /app/.streamlit/secrets.toml", async () => {
    const source = appDir({ Containerfile: envServer(8501, { underAppPath: true, extra: "cp /app/.streamlit/secrets.toml $d/secrets.toml;" }) });
    const first = await server.create({
      spec: "python-streamlit",
      source,
      path: "/st",
      params: { db_user: "admin", db_password: "p w" },
      firstPath: "/st/secrets.toml",
    });
    expect(first.status).toBe(200);
    // The spec's template: one `key = "value"` per param, in key order, each between blank lines (Go's output).
    expect(first.body).toContain('\ndb_password = "p w"\n');
    expect(first.body).toContain('\ndb_user = "admin"\n');
    expect(first.body).toContain('\napp_file = "streamlit_app.py"\n');
    expect(first.body).toContain('\nCL_APP_PATH = "/st"\n');
    expect(first.body).not.toContain("{{");
    const keys = [...first.body.matchAll(/^(\w+) = /gm)].map((m) => m[1]!);
    expect(keys).toEqual([...keys].sort());
  }, 120_000);
});

const SECRET_APP_STAR = (allowed: string) => `load("proxy.in", "proxy")
load("container.in", "container")

app = ace.app("secrets",
    routes = [ace.proxy("/", proxy.config(container.URL))],
    container = container.config(container.AUTO),
    permissions = [
        ace.permission("proxy.in", "config", [container.URL]),
        ace.permission("container.in", "config", [container.AUTO], secrets=${allowed}),
    ],
)
`;

describe("secrets in params", () => {
  test("an allowed env secret and a prop secret reach the container's environment", async () => {
    const source = appDir({ "app.star": SECRET_APP_STAR('[["CL16_TOKEN"], ["db", "password"]]'), Containerfile: envServer(8080) });
    const first = await server.create({
      spec: "container",
      source,
      path: "/sec",
      params: { API_TOKEN: '{{secret "env" "CL16_TOKEN"}}', DB_PASSWORD: '{{ secret_from "prop" "db" "password" }}', PLAIN: "{not a template}" },
      firstPath: "/sec/env.txt",
    });
    expect(first.status).toBe(200);
    expect(first.body).toContain(`API_TOKEN=${TOKEN}\n`);
    expect(first.body).toContain(`DB_PASSWORD=from-props-${process.pid}\n`);
    expect(first.body).toContain("PLAIN={not a template}\n");
  }, 120_000);

  test("a secret the permission does not allow is refused, naming it and the fix", async () => {
    const source = appDir({ "app.star": SECRET_APP_STAR('[["OTHER_ONE"]]'), Containerfile: envServer(8080) });
    const args = ["app", "create", "--spec", "container", "--approve", "--param", 'API_TOKEN={{secret "env" "CL16_TOKEN"}}', source, "/refused"];
    const result = await runCli(args, { CL_HOME: server.home });
    const text = result.stdout + result.stderr;
    if (result.code === 0) {
      // Created but not loadable: the app answers 500 with the reason.
      const res = await server.get("/refused/env.txt");
      expect(res.status).toBe(500);
      expect(res.body).toContain("secret CL16_TOKEN is not allowed");
      expect(res.body).not.toContain(TOKEN);
    } else {
      expect(text).toContain("param API_TOKEN: secret CL16_TOKEN is not allowed");
      expect(text).not.toContain(TOKEN);
    }
  }, 60_000);

  test("clace-lite config reports a secret missing from the environment at its param", async () => {
    const source = appDir({ "app.star": SECRET_APP_STAR('[["regex:.*"]]'), Containerfile: envServer(8080) });
    const home = tempHome();
    try {
      const result = await runCli(["config", source, "--param", 'X={{ secret "CL16_NOT_SET_ANYWHERE" }}'], { CL_HOME: home });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("param X: secret CL16_NOT_SET_ANYWHERE is not set in the server's environment");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});
