/** `clace-lite star run|test|check`: the Starlark interpreter on its own. */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { Value } from "../starlark/index.ts";
import { UserError, EXIT_FAILED, formatError } from "./output.ts";

function readSource(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/**
 * `star run FILE`: runs a file in the app dialect. Errors go to stderr and set the exit code; the process is not
 * exited here, so a long error reaches a pipe in full.
 */
export async function runStarFile(file: string, maxSteps = 0): Promise<void> {
  // The interpreter is loaded on use, so that other commands start without it.
  const { APP_DIALECT, exec, STRUCT_BUILTIN, jsonModule, mathModule } = await import("../starlark/index.ts");
  const source = readSource(file);
  try {
    exec(file, source, {
      options: APP_DIALECT,
      predeclared: { struct: STRUCT_BUILTIN },
      maxSteps,
      print: (m) => process.stdout.write(m + "\n"),
      load: (module): Record<string, Value> => {
        if (module === "json.star") return { json: jsonModule };
        if (module === "math.star") return { math: mathModule };
        throw new Error(`no such module: ${module}`);
      },
    });
  } catch (e) {
    process.stderr.write(formatError(e) + "\n");
    process.exitCode = EXIT_FAILED;
  }
}

export function registerStarCommands(program: Command): void {
  const star = program.command("star").description("run, test and check Starlark files");

  star
    .command("run")
    .description("run a Starlark file in the app dialect (recursion, while and set allowed)")
    .argument("<file>", "the .star file")
    .option("--max-steps <n>", "stop after this many steps (0 = unlimited)", "0")
    .action((file: string, opts: { maxSteps: string }) => runStarFile(file, Number(opts.maxSteps) || 0));

  star
    .command("test")
    .description("run Starlark test files (starlark-go's convention: chunks split by ---, ### \"error regexp\")")
    .argument("<files...>", "test files")
    .action(async (files: string[]) => {
      const { runTestSource } = await import("../starlark/index.ts");
      let passed = 0,
        failed = 0;
      for (const file of files) {
        const r = runTestSource(file, readSource(file));
        for (const c of r.chunks) for (const f of c.failures) process.stdout.write(`${file}:${f.line}: ${f.message}\n`);
        passed += r.passed;
        failed += r.failed;
      }
      process.stdout.write(`${passed} passed, ${failed} failed\n`);
      if (failed > 0) process.exit(EXIT_FAILED);
    });

  star
    .command("check")
    .description("parse and resolve Starlark files (app dialect) and print every static error")
    .argument("<files...>", "the .star files")
    .option("--predeclared <names>", "comma-separated names the host predeclares", "struct")
    .action(async (files: string[], opts: { predeclared: string }) => {
      const { APP_DIALECT, checkFile, StarlarkSyntaxError, UNIVERSE_NAMES } = await import("../starlark/index.ts");
      const predeclared = new Set(opts.predeclared.split(",").map((n) => n.trim()).filter(Boolean));
      const names = { isPredeclared: (n: string) => predeclared.has(n), isUniversal: (n: string) => UNIVERSE_NAMES.has(n) };
      let bad = 0;
      for (const file of files) {
        try {
          checkFile(file, readSource(file), APP_DIALECT, names);
        } catch (e) {
          if (!(e instanceof StarlarkSyntaxError)) throw e;
          bad += e.diagnostics.length;
          process.stderr.write(e.render() + "\n");
        }
      }
      if (bad > 0) process.exit(EXIT_FAILED);
    });
}
