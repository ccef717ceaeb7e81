/**
 * Builds what ships:
 *   bun run build [--outfile PATH] [--target bun-linux-x64]   the single executable (dist/clace-lite)
 *   bun run build --package                                   the npm package's CLI (dist/package/)
 *
 * The executable is `bun build --compile` of the CLI; the specs are part of the program (src/runtime/specs-bundle.ts),
 * so it needs neither the source tree nor node_modules. The package's CLI is the same code bundled as CommonJS with
 * precompiled bytecode beside it: `bunx clace-lite` then starts without resolving, transpiling and compiling some
 * ninety modules (a `star run` of print(1) in about 28 ms instead of about 45 ms from the sources). Bytecode is
 * specific to the Bun version that made it; another Bun ignores it and compiles the bundle instead, only slower.
 */
import { parseArgs } from "node:util";
import { rmSync } from "node:fs";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    outfile: { type: "string", default: "dist/clace-lite" },
    target: { type: "string" },
    package: { type: "boolean", default: false },
  },
});

// The bundle must match specs/ exactly; regenerate it first so a spec edit never ships stale.
const gen = Bun.spawnSync(["bun", "scripts/gen-specs.ts"], { stdout: "inherit", stderr: "inherit" });
if (gen.exitCode !== 0) process.exit(gen.exitCode ?? 1);

/** Options both outputs share. */
const common: Pick<Bun.BuildConfig, "entrypoints" | "root" | "target" | "minify" | "bytecode"> = {
  // The config-evaluation worker is a second entry point; src/runtime/isolated.ts finds it beside the CLI.
  entrypoints: ["src/cli/main.ts", "src/runtime/eval-worker.ts"],
  root: "src",
  target: "bun",
  // Chevrotain records the grammar by reading the parser's own code, so identifiers must keep their names.
  minify: { whitespace: true, syntax: true, identifiers: false },
  // Precompiled bytecode: the program starts without parsing and compiling its JavaScript.
  bytecode: true,
};

const result = values.package
  ? await buildPackage()
  : await Bun.build({
      ...common,
      compile: { outfile: values.outfile!, ...(values.target ? { target: values.target as Bun.Build.CompileTarget } : {}) },
      // Bytecode with top-level await needs the ESM format in an executable.
      format: "esm",
      sourcemap: "linked",
    });
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
if (values.package) console.error(`built dist/package (${result.outputs.map((o) => o.path.split("/dist/package/")[1]).join(", ")})`);
else console.error(`built ${values.outfile} (${(Bun.file(values.outfile!).size / 1024 / 1024).toFixed(1)} MiB)`);

async function buildPackage(): Promise<Bun.BuildOutput> {
  rmSync("dist/package", { recursive: true, force: true });
  // Bytecode outside an executable needs CommonJS (hence no top-level await in the CLI); every dependency is
  // bundled, so the package runs without resolving node_modules at start.
  return Bun.build({
    ...common,
    outdir: "dist/package",
    format: "cjs",
    define: { CLACE_LITE_PACKAGE_WORKER: JSON.stringify("../runtime/eval-worker.js") },
  });
}
