/** `clace-lite star run|test|check`: the Starlark interpreter on its own. */
import { existsSync, readFileSync } from "node:fs";
import type { Command } from "commander";
import type { Value } from "../starlark/index.ts";
import { basename, dirname, join } from "node:path";
import { UserError, EXIT_FAILED, EXIT_USAGE, formatError, writeAll } from "./output.ts";

const FILE_KINDS = ["app", "params", "plain"] as const;
type FileKind = (typeof FILE_KINDS)[number];

/** The modules `star run` and `star test` load by name. */
const STAR_MODULES = ["json", "math"];

/** params.star is a params file; app.star, and any .star file in a folder with an app.star, an app file. */
function kindOf(file: string): FileKind {
  const name = basename(file);
  if (name === "params.star") return "params";
  if (name === "app.star" || existsSync(join(dirname(file), "app.star"))) return "app";
  return "plain";
}

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
      // As starlark-go's `starlark` command: json and math predeclared, and loadable by name too.
      predeclared: { struct: STRUCT_BUILTIN, json: jsonModule, math: mathModule },
      maxSteps,
      print: (m) => writeAll(1, m + "\n"),
      load: (module): Record<string, Value> => {
        if (module === "json.star") return { json: jsonModule };
        if (module === "math.star") return { math: mathModule };
        throw new Error(`no such module: ${module}`);
      },
    });
  } catch (e) {
    writeAll(2, formatError(e) + "\n");
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
        for (const c of r.chunks) for (const f of c.failures) writeAll(1, `${file}:${f.line}: ${f.message}\n`);
        passed += r.passed;
        failed += r.failed;
      }
      writeAll(1, `${passed} passed, ${failed} failed\n`);
      if (failed > 0) process.exit(EXIT_FAILED);
    });

  star
    .command("check")
    .description("parse and resolve Starlark files and print every static error; app.star, params.star and the files beside an app.star are checked with the names the app server predeclares")
    .argument("<files...>", "the .star files")
    .option("--predeclared <names>", "comma-separated names the host predeclares, besides those of the file's kind")
    .option("--kind <kind>", "the kind of file: app, params or plain (default: from the file's name and folder)")
    .action(async (files: string[], opts: { predeclared?: string; kind?: string }) => {
      if (opts.kind !== undefined && !FILE_KINDS.includes(opts.kind as FileKind)) {
        throw new UserError(`--kind is one of ${FILE_KINDS.join(", ")}, not "${opts.kind}"`, EXIT_USAGE);
      }
      const [{ APP_DIALECT, checkFile, StarlarkSyntaxError, UNIVERSE_NAMES }, { APP_STAR_NAMES, PARAMS_STAR_NAMES }] = await Promise.all([
        import("../starlark/index.ts"),
        import("../runtime/index.ts"),
      ]);
      const extra = (opts.predeclared ?? "").split(",").map((n) => n.trim()).filter(Boolean);
      const byKind: Record<FileKind, readonly string[]> = { app: APP_STAR_NAMES, params: PARAMS_STAR_NAMES, plain: ["struct"] };
      let bad = 0;
      for (const file of files) {
        const kind = (opts.kind as FileKind | undefined) ?? kindOf(file);
        const predeclared = new Set([...byKind[kind], ...extra]);
        const names = {
          isPredeclared: (n: string) => predeclared.has(n),
          isUniversal: (n: string) => UNIVERSE_NAMES.has(n),
          suggestions: () => [...UNIVERSE_NAMES, ...predeclared],
          // `star run` and `star test` offer these modules; app files load only plugins and their own files.
          loadFor: (n: string) => (kind === "plain" && STAR_MODULES.includes(n) ? `load("${n}.star", "${n}")` : undefined),
        };
        try {
          checkFile(file, readSource(file), APP_DIALECT, names);
        } catch (e) {
          if (!(e instanceof StarlarkSyntaxError)) throw e;
          bad += e.diagnostics.length;
          writeAll(2, e.render() + "\n");
        }
      }
      if (bad > 0) process.exit(EXIT_FAILED);
    });
}
