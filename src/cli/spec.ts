/** `clace-lite spec list|show NAME`: the bundled app specs. */
import type { Command } from "commander";

export function registerSpecCommands(program: Command): void {
  const spec = program.command("spec").description("list and show the bundled app specs");
  spec
    .command("list")
    .description("list the bundled specs and their files")
    .option("--json", "print as JSON")
    .action(async (flags: { json?: boolean }) => {
      const { listSpecs } = await import("../runtime/index.ts");
      const specs = listSpecs();
      if (flags.json) {
        process.stdout.write(JSON.stringify(specs, null, 2) + "\n");
        return;
      }
      const width = Math.max(...specs.map((s) => s.name.length));
      for (const s of specs) process.stdout.write(`${s.name.padEnd(width)}  ${s.origin === "custom" ? "(custom) " : ""}${s.files.join(", ")}\n`);
    });
  spec
    .command("show")
    .description("print every file of a spec")
    .argument("<name>", "the spec name")
    .action(async (name: string) => {
      const { readSpec } = await import("../runtime/index.ts");
      const s = readSpec(name);
      const parts = s.files.map((f) => `==> ${f} <==\n${s.contents[f]!.replace(/\n?$/, "\n")}`);
      process.stdout.write(parts.join("\n"));
    });
}
