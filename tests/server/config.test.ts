/**
 * The server config: found by --config, CL_CONFIG_FILE or $CL_HOME/clace.toml; a config in Clace's layout (every
 * section and key of Clace's default config) loads with one warning per key that does not apply and none for those
 * that do; a typo, a wrong type or invalid TOML is an error naming file:line:col.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeConfigSource, loadServerConfig, parseServerConfig } from "../../src/server/config.ts";

const FIXTURE = join(import.meta.dir, "..", "fixtures", "config", "clace.toml");
const fixtureText = readFileSync(FIXTURE, "utf8");
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "clace-lite-conf-"));
  dirs.push(d);
  return d;
}

/** The 1-based line of the fixture that starts with `text`, for checking reported positions. */
function lineOf(text: string, source = fixtureText): number {
  const i = source.split("\n").findIndex((l) => l.startsWith(text));
  if (i < 0) throw new Error(`no line starts with ${text}`);
  return i + 1;
}

function parse(text: string) {
  return parseServerConfig(text, "s.toml", "/home/u/clhome");
}

describe("where the config comes from", () => {
  test("--config, else CL_CONFIG_FILE, else $CL_HOME/clace.toml when it exists, else the defaults", () => {
    const home = tempDir();
    const none = loadServerConfig({ home, env: {} });
    expect(none.file).toBeUndefined();
    expect(none.config.http).toEqual({ host: "127.0.0.1", port: 25222, read_header_timeout_secs: 30 });
    expect(describeConfigSource(none)).toContain("defaults in force");

    writeFileSync(join(home, "clace.toml"), `[http]\nport = 1001\n`);
    const fromHome = loadServerConfig({ home, env: {} });
    expect([fromHome.origin, fromHome.config.http.port]).toEqual(["CL_HOME", 1001]);
    expect(describeConfigSource(fromHome)).toBe(`config: ${join(home, "clace.toml")} (from CL_HOME)`);

    const other = join(tempDir(), "other.toml");
    writeFileSync(other, `[http]\nport = 1002\n`);
    const fromEnv = loadServerConfig({ home, env: { CL_CONFIG_FILE: other } });
    expect([fromEnv.origin, fromEnv.config.http.port]).toEqual(["CL_CONFIG_FILE", 1002]);
    const third = join(tempDir(), "third.toml");
    writeFileSync(third, `[http]\nport = 1003\n`);
    const fromFlag = loadServerConfig({ flag: third, home, env: { CL_CONFIG_FILE: other } });
    expect([fromFlag.origin, fromFlag.config.http.port]).toEqual(["--config", 1003]);
  });

  test("a named file that is missing is an error naming it and who named it", () => {
    expect(() => loadServerConfig({ flag: "/nonexistent/x.toml", home: tempDir(), env: {} })).toThrow(
      "cannot read config /nonexistent/x.toml (named by --config): no such file",
    );
    expect(() => loadServerConfig({ home: tempDir(), env: { CL_CONFIG_FILE: "/nonexistent/y.toml" } })).toThrow("(named by CL_CONFIG_FILE)");
  });
});

describe("a config in Clace's layout", () => {
  const loaded = loadServerConfig({ flag: FIXTURE, home: "/home/u/clhome", env: {} });

  test("loads, applying [http], [https], [system], [logging] access_logging and [app_config]", () => {
    const { config } = loaded;
    expect(config.http).toEqual({ host: "127.0.0.1", port: 25222, read_header_timeout_secs: 30 });
    expect(config.https).toEqual({ host: "0.0.0.0", port: 25223, cert_file: "", key_file: "" });
    expect(config.system.default_domain).toBe("localhost");
    expect(config.logging.access_logging).toBe(true);
    expect(config.app_config).toEqual({
      "container.health_url": "/",
      "container.health_attempts_after_startup": "30",
      "container.health_timeout_secs": "5",
      "container.idle_shutdown_secs": "180",
      "container.idle_shutdown_dev_apps": "false",
      "container.status_check_interval_secs": "5",
      "container.status_health_attempts": "3",
      "proxy.max_idle_conns": "250",
      "proxy.idle_conn_timeout_secs": "15",
      "proxy.disable_compression": "true",
    });
  });

  test("one warning per Clace key that does not apply, naming file:line, the key and why; none for applied keys", () => {
    const { warnings } = loaded;
    for (const w of warnings) expect(w).toMatch(new RegExp(`^${FIXTURE.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+: ignored Clace key \\S.*: .+`));
    expect(warnings).toContain(`${FIXTURE}:${lineOf("level = ")}: ignored Clace key [logging] level: the server prints progress, warnings and errors to its console; there are no levels`);
    expect(warnings).toContain(`${FIXTURE}:${lineOf("cors.allow_origin")}: ignored Clace key [app_config] cors.allow_origin: the proxy adds no CORS headers; answers carry the app's own`);
    expect(warnings.some((w) => w.includes(`:${lineOf('db_connection = "sqlite:$CL_HOME/metadata/clace_app_store.db"')}: ignored Clace key [plugin."store.in"] db_connection`))).toBe(true);
    expect(warnings.some((w) => w.includes("[git_auth.github] key_file_path"))).toBe(true);
    // Applied keys, and Clace keys set to what clace-lite does anyway, are not reported.
    for (const quiet of ["[http] port", "[https] host", "default_domain", "[app_config] container.", "[app_config] proxy.", "admin_over_tcp", "disable_client_certs", "container_command", "cert_location", "auto_upgrade", "access_logging"]) {
      expect(warnings.filter((w) => w.includes(quiet))).toEqual([]);
    }
    // Every other key of the fixture is reported, once, at its line.
    const quiet = new Set(["admin_user", "admin_password", "host", "port", "redirect_to_https", "mkcert_path", "service_email", "cert_location", "disable_client_certs", "admin_over_tcp", "admin_password_bcrypt", "session_secret", "session_block_key", "callback_url", "default_git_auth", "access_logging", "auto_upgrade", "file_watcher_debounce_millis", "node_path", "container_command", "default_domain", "enable_compression"]);
    const keyLines = fixtureText.split("\n").flatMap((text, i) => {
      const m = /^([A-Za-z_.]+) =/.exec(text);
      return m && !quiet.has(m[1]!) && !/^(container|proxy)\./.test(m[1]!) ? [i + 1] : [];
    });
    const reportedLines = warnings.map((w) => Number(w.slice(FIXTURE.length + 1).split(":")[0]));
    expect(reportedLines).toEqual(keyLines);
  });

  test("a typo in a Clace key fails with file:line:col, the section's known keys and the likely key", () => {
    const dir = tempDir();
    const file = join(dir, "clace.toml");
    const typo = fixtureText.replace('default_domain = "localhost"', 'default_domian = "localhost"');
    writeFileSync(file, typo);
    expect(() => loadServerConfig({ flag: file, home: dir, env: {} })).toThrow(
      new RegExp(`^${file}:${lineOf("default_domian", typo)}:1: unknown key "default_domian" in \\[system\\]; known: .*default_domain.* \\(did you mean "default_domain"\\?\\)$`),
    );
  });
});

describe("values and errors", () => {
  test("applied values override the defaults; old-style quoted [app_config] keys and string numbers still work", () => {
    const { config, warnings } = parse(
      `[http]\nport = 8000\nread_header_timeout_secs = 5\n[https]\nport = -1\n[system]\ndefault_domain = "example.test"\n[logging]\naccess_logging = false\n[eval]\ntimeout_secs = 3\n[app_config]\n"container.idle_shutdown_secs" = "60"\nproxy = { max_idle_conns = 1 }\n`,
    );
    expect(config.http).toEqual({ host: "127.0.0.1", port: 8000, read_header_timeout_secs: 5 });
    expect(config.https.port).toBe(-1);
    expect(config.system.default_domain).toBe("example.test");
    expect(config.logging.access_logging).toBe(false);
    expect(config.eval.timeout_secs).toBe(3);
    expect(config.app_config).toEqual({ "container.idle_shutdown_secs": "60", "proxy.max_idle_conns": "1" });
    expect(warnings).toEqual([]);
  });

  test("unknown sections and keys name file:line:col and what is known", () => {
    expect(() => parse(`[htp]\nport = 1\n`)).toThrow(/^s\.toml:1:1: unknown section \[htp\]; known: http, https, security, .* \(did you mean \[http\]\?\)$/);
    expect(() => parse(`[http]\n  prot = 1\n`)).toThrow(/^s\.toml:2:3: unknown key "prot" in \[http\]; known: host, port, redirect_to_https, read_header_timeout_secs/);
    expect(() => parse(`sever_uri = "x"\n`)).toThrow(/^s\.toml:1:1: unknown key "sever_uri" outside any table; .*\(did you mean "server_uri"\?\)/);
    expect(() => parse(`[app_config]\ncontainer.idle_shutdwn_secs = 1\n`)).toThrow(
      /^s\.toml:2:1: unknown key "container\.idle_shutdwn_secs" in \[app_config\]; known: .*cors\.allow_origin.* \(did you mean "container\.idle_shutdown_secs"\?\)$/,
    );
    expect(() => parse(`[git_auth.gh]\nkey_file = "k"\n`)).toThrow(/^s\.toml:2:1: unknown key "key_file" in \[git_auth\.gh\]; known: user_id, key_file_path, password/);
  });

  test("a value of the wrong type names file:line:col, the key and what was expected", () => {
    expect(() => parse(`# x\n[http]\nport = "80"\n`)).toThrow('s.toml:3:1: [http] port must be an integer, not "80"');
    expect(() => parse(`[http]\nport = 70000\n`)).toThrow("s.toml:2:1: [http] port must be an integer from 0 to 65535, not 70000");
    expect(() => parse(`[https]\nport = -2\n`)).toThrow("s.toml:2:1: [https] port must be -1 (no HTTPS) or an integer from 0 to 65535, not -2");
    expect(() => parse(`[security]\nadmin_over_tcp = "no"\n`)).toThrow('s.toml:2:1: [security] admin_over_tcp must be true or false, not "no"');
    expect(() => parse(`[app_config]\ncontainer.idle_shutdown_secs = "soon"\n`)).toThrow(
      's.toml:2:1: [app_config] invalid value "soon" for container.idle_shutdown_secs: expected a whole number',
    );
    expect(() => parse(`[app_config]\nproxy = { max_idle_conns = -1 }\n`)).toThrow("s.toml:2:11: [app_config] invalid value \"-1\" for proxy.max_idle_conns: expected a whole number");
    expect(() => parse(`[app_config]\nproxy.disable_compression = "maybe"\n`)).toThrow("expected true or false");
  });

  test("invalid TOML names the line and column where it goes wrong", () => {
    expect(() => parse(`[http]\nport = 1\n\n[http\n`)).toThrow(/^s\.toml:4:6: invalid TOML: /);
    expect(() => parse(`[http]\nhost = """a\nb"""\nport = 1\nport = 2\n`)).toThrow(/^s\.toml:5:1: invalid TOML: /);
  });

  test("Clace keys set to what clace-lite does are quiet; set otherwise they are reported", () => {
    expect(parse(`[security]\nadmin_over_tcp = false\n[system]\ncontainer_command = "docker"\n[app_config]\nproxy.disable_compression = true\n`).warnings).toEqual([]);
    expect(parse(`[security]\nadmin_over_tcp = true\n`).warnings).toEqual([
      "s.toml:2: ignored Clace key [security] admin_over_tcp: the admin API is only the unix socket $CL_HOME/run/admin.sock (no admin users or passwords)",
    ]);
    expect(parse(`[app_config]\nproxy.disable_compression = false\n`).warnings[0]).toContain("[app_config] proxy.disable_compression: the proxy never asks apps for gzip");
  });
});

describe("paths under CL_HOME", () => {
  test("cert_location at the certificates folder under CL_HOME is what clace-lite uses (quiet), elsewhere it is reported", () => {
    expect(parse(`[https]\ncert_location = "$CL_HOME/config/certificates"\n`).warnings).toEqual([]);
    expect(parse(`[https]\ncert_location = "/home/u/clhome/config/certificates"\n`).warnings).toEqual([]);
    expect(parse(`[https]\ncert_location = "/etc/certs"\n`).warnings[0]).toContain("ignored Clace key [https] cert_location");
  });
});
