/** `clace-lite star run|test|check`: the Starlark interpreter on its own. */
import type { Command } from "commander";

export function registerStarCommands(program: Command): void {
  const star = program.command("star").description("run, test and check Starlark files");
  void star;
}
