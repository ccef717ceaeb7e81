/** Secret templates in param values and build args: providers, the allow-list, and errors naming the value. */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseProperties, resolveSecrets, SecretError } from "../../src/runtime/secrets.ts";

const env = { TOKEN: "t0k", A_B: "joined", CL_SECRETS_PROPERTIES: "" };
const all = [["regex:.*"]];
const err = (fn: () => unknown): SecretError => {
  try {
    fn();
  } catch (e) {
    return e as SecretError;
  }
  throw new Error("no error");
};

test("values without a template pass unchanged; secret, secret_from and Clace's two-argument form resolve", () => {
  expect(resolveSecrets("plain {x}", undefined, { env }, "param P")).toBe("plain {x}");
  expect(resolveSecrets('{{ secret "TOKEN" }}', all, { env }, "param P")).toBe("t0k");
  expect(resolveSecrets('pre-{{secret "env" "TOKEN"}}-post', all, { env }, "param P")).toBe("pre-t0k-post");
  expect(resolveSecrets('{{ secret_from "env" "TOKEN" }}', all, { env }, "param P")).toBe("t0k");
  // Several keys are joined with the provider's delimiter (env: "_").
  expect(resolveSecrets('{{ secret "A" "B" }}', all, { env }, "param P")).toBe("joined");
});

test("the allow-list: exact or regex entries per key position; no rows or no match refuses", () => {
  expect(resolveSecrets('{{ secret "TOKEN" }}', [["OTHER"], ["TOKEN"]], { env }, "p")).toBe("t0k");
  expect(resolveSecrets('{{ secret "A" "B" }}', [["A"]], { env }, "p")).toBe("joined");
  expect(resolveSecrets('{{ secret "A" "B" }}', [["regex:A|C", "B"]], { env }, "p")).toBe("joined");
  const refused = err(() => resolveSecrets('{{ secret "TOKEN" }}', [["OTHER"]], { env }, "param P"));
  expect(refused.kind).toBe("not-allowed");
  expect(refused.message).toBe('param P: secret TOKEN is not allowed: no row of secrets=[...] matches it in ace.permission("container.in", "config", ...)');
  expect(refused.fix).toContain('secrets=[["TOKEN"]]');
  expect(err(() => resolveSecrets('{{ secret "TOKEN" }}', undefined, { env }, "param P")).message).toContain("there are no secrets=[...]");
});

test("missing secrets, unknown providers and bad templates are errors naming the value", () => {
  expect(err(() => resolveSecrets('{{ secret "NOPE" }}', all, { env }, "build arg X")).message).toBe("build arg X: secret NOPE is not set in the server's environment");
  expect(err(() => resolveSecrets('{{ secret_from "vault" "K" }}', all, { env }, "param P")).kind).toBe("unknown-provider");
  const bad = err(() => resolveSecrets("{{ secret }}x{{", all, { env }, "param P"));
  expect(bad.kind).toBe("bad-call");
  expect(bad.message).toStartWith("param P: ");
});

test("the prop provider reads a properties file named by CL_SECRETS_PROPERTIES (keys joined with '.')", () => {
  const dir = mkdtempSync(join(tmpdir(), "clace-lite-props-"));
  try {
    const file = join(dir, "s.properties");
    writeFileSync(file, "# comment\ndb.password = s3 cret # trailing comment\nnot a pair\nempty=\n");
    expect([...parseProperties("a=b=c\n k = v \n#x=y\n")]).toEqual([["a", "b=c"], ["k", "v"]]);
    const sources = { env: { CL_SECRETS_PROPERTIES: file } };
    expect(resolveSecrets('{{ secret_from "prop" "db" "password" }}', all, sources, "p")).toBe("s3 cret");
    expect(resolveSecrets('[{{ secret_from "prop" "empty" }}]', all, sources, "p")).toBe("[]");
    expect(err(() => resolveSecrets('{{ secret_from "prop" "nope" }}', all, sources, "p")).message).toContain(`secret nope is not in ${file}`);
    const missing = err(() => resolveSecrets('{{ secret_from "prop" "x" }}', all, { env: { CL_SECRETS_PROPERTIES: join(dir, "none") } }, "p"));
    expect(missing.kind).toBe("provider-unavailable");
    // Without the variable, $CL_HOME/config/secrets.properties is used.
    expect(err(() => resolveSecrets('{{ secret_from "prop" "x" }}', all, { env: { CL_HOME: dir } }, "p")).message).toContain(join(dir, "config", "secrets.properties"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
