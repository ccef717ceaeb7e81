/** The flags read the same across commands, and help shows only defaults that say something. */
import { describe, expect, test } from "bun:test";
import { runCli } from "./helpers.ts";

const COMMANDS = [
  ["serve"],
  ["check"],
  ["config"],
  ["app", "create"],
  ["app", "list"],
  ["app", "reload"],
  ["app", "delete"],
  ["app", "update-metadata", "copt"],
  ["param", "list"],
  ["param", "update"],
  ["star", "check"],
  ["server", "start"],
];

describe("help", () => {
  test("no command shows an empty or doubled default", async () => {
    for (const command of COMMANDS) {
      const help = await runCli([...command, "--help"]);
      expect(help.code).toBe(0);
      for (const empty of ["(default: {})", "(default: [])", '(default: "")', "(default: false)"]) {
        if (help.stdout.includes(empty)) throw new Error(`clace-lite ${command.join(" ")} --help shows ${empty}:\n${help.stdout}`);
      }
      expect(help.stdout).not.toMatch(/\(default: [^)]*\) \(default:/);
    }
  });

  test("JSON is --json on every command that prints data; --path means a request path, --app-path a mount point", async () => {
    const printing = [["config"], ["app", "create"], ["app", "list"], ["app", "reload"], ["app", "delete"], ["app", "approve"], ["app", "update-metadata", "spec"], ["param", "list"]];
    for (const command of printing) {
      expect((await runCli([...command, "--help"])).stdout).toContain("--json");
    }
    expect((await runCli(["serve", "--help"])).stdout).toContain("--app-path <[domain:]path>");
    expect((await runCli(["config", "--help"])).stdout).toContain("--app-path <[domain:]path>");
    expect((await runCli(["check", "--help"])).stdout).toMatch(/--path <path>\s+the path to request/);
  });

  test("config --app-path mounts the app where serve would", async () => {
    const config = await runCli(["config", "examples/hello", "--approve", "--json", "--app-path", "example.com:/hello"]);
    expect(config.code).toBe(0);
    expect(JSON.parse(config.stdout)).toMatchObject({ domain: "example.com", path: "/hello" });
    const bad = await runCli(["config", "examples/hello", "--app-path", "nopath"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--app-path: invalid app path");
  });
});
