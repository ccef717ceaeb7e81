/** The evaluator's view of the front end: source text to a resolved AST (throws StarlarkSyntaxError). */
import type { File } from "../syntax/ast.ts";
import type { DialectOptions } from "../options.ts";

export interface NameSets {
  isPredeclared: (name: string) => boolean;
  isUniversal: (name: string) => boolean;
}

export function parseAndResolve(filename: string, source: string, options: DialectOptions, names: NameSets): File {
  void filename;
  void source;
  void options;
  void names;
  throw new Error("the Starlark front end is not available");
}
