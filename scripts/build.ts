/**
 * Builds the single executable: `bun build --compile` of the CLI into dist/clace-lite. The specs are part of the
 * program (src/runtime/specs-bundle.ts), so the binary needs neither the source tree nor node_modules.
 *
 *   bun run build [--outfile PATH] [--target bun-linux-x64]
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { outfile: { type: "string", default: "dist/clace-lite" }, target: { type: "string" } },
});

// The bundle must match specs/ exactly; regenerate it first so a spec edit never ships stale.
const gen = Bun.spawnSync(["bun", "scripts/gen-specs.ts"], { stdout: "inherit", stderr: "inherit" });
if (gen.exitCode !== 0) process.exit(gen.exitCode ?? 1);

const result = await Bun.build({
  // The config-evaluation worker is a second entry point: a compiled program finds it by its source path.
  entrypoints: ["src/cli/main.ts", "src/runtime/eval-worker.ts"],
  compile: { outfile: values.outfile!, ...(values.target ? { target: values.target as Bun.Build.CompileTarget } : {}) },
  // Chevrotain records the grammar by reading the parser's own code, so identifiers must keep their names.
  minify: { whitespace: true, syntax: true, identifiers: false },
  // Precompiled bytecode: the binary starts without parsing and compiling its JavaScript (a `star run` of
  // print(1) in about 25 ms instead of about 75 ms). Bytecode with top-level await needs the ESM format.
  bytecode: true,
  format: "esm",
  sourcemap: "linked",
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
const size = Bun.file(values.outfile!).size;
console.error(`built ${values.outfile} (${(size / 1024 / 1024).toFixed(1)} MiB)`);
