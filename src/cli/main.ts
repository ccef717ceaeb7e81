#!/usr/bin/env bun
/**
 * The clace-lite command line. Each command group lives in its own file and registers itself here; commands stay
 * thin: parse arguments, call the runtime/containers/proxy layers, render results and errors.
 */
import { Command, CommanderError } from "commander";
import pkg from "../../package.json" with { type: "json" };
import { registerAppCommands } from "./app.ts";
import { registerServeCommands } from "./serve.ts";
import { registerServerCommands } from "./server.ts";
import { registerStarCommands } from "./star.ts";
import { registerConfigCommands } from "./config.ts";
import { registerSpecCommands } from "./spec.ts";
import { exitWithError, EXIT_USAGE } from "./output.ts";

export function buildProgram(): Command {
  const program = new Command("clace-lite")
    .description("Run containerized web apps configured in Starlark: build on demand, start on the first request, stop when idle.")
    .version(pkg.version, "-v, --version", "print the version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerServeCommands(program);
  registerServerCommands(program);
  registerAppCommands(program);
  registerStarCommands(program);
  registerConfigCommands(program);
  registerSpecCommands(program);
  return program;
}

if (import.meta.main) {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage mistakes were already printed by commander.
      process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    }
    exitWithError(err);
  }
}
