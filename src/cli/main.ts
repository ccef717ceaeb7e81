#!/usr/bin/env bun
/**
 * The clace-lite command line. Each command group lives in its own file and registers itself here; commands stay
 * thin: parse arguments, call the runtime/containers/proxy layers, render results and errors.
 */
import type { Command } from "commander";
import pkg from "../../package.json" with { type: "json" };
import { registerStarCommands, runStarFile } from "./star.ts";
import { exitWithError, EXIT_USAGE } from "./output.ts";

/**
 * The program with its command groups. For `star ...` only the star group is registered: the Starlark commands
 * then start without loading the server, proxy and container layers (the other groups are imported on demand).
 */
export async function buildProgram(argv: string[] = process.argv): Promise<Command> {
  const { Command } = await import("commander");
  const program = new Command("clace-lite")
    .description("Run containerized web apps configured in Starlark: build on demand, start on the first request, stop when idle.")
    .version(pkg.version, "-v, --version", "print the version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  if (argv[2] === "star") {
    registerStarCommands(program);
    return program;
  }
  const [app, serve, server, config, spec] = await Promise.all([
    import("./app.ts"),
    import("./serve.ts"),
    import("./server.ts"),
    import("./config.ts"),
    import("./spec.ts"),
  ]);
  serve.registerServeCommands(program);
  server.registerServerCommands(program);
  app.registerAppCommands(program);
  registerStarCommands(program);
  config.registerConfigCommands(program);
  spec.registerSpecCommands(program);
  return program;
}

/** `star run FILE` with nothing else, the most frequent way to start the interpreter: no need to load commander. */
function isPlainStarRun(argv: string[]): boolean {
  return argv.length === 5 && argv[2] === "star" && argv[3] === "run" && !argv[4]!.startsWith("-");
}

/**
 * Runs the command line. A function rather than top-level awaits: the npm package ships this file bundled as
 * CommonJS with precompiled bytecode (scripts/build.ts --package), a format that has no top-level await.
 */
export async function main(argv: string[] = process.argv): Promise<void> {
  if (isPlainStarRun(argv)) {
    try {
      await runStarFile(argv[4]!);
    } catch (err) {
      exitWithError(err);
    }
    return;
  }
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const { CommanderError } = await import("commander");
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage mistakes were already printed by commander.
      process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    }
    exitWithError(err);
  }
}

if (import.meta.main) void main();
