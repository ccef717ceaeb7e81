/** The evaluator's view of the front end: source text to a resolved AST (throws StarlarkSyntaxError). */
import type { File } from "../syntax/ast.ts";
import type { DialectOptions } from "../options.ts";
import { parse } from "../syntax/parser.ts";
import { resolveLite } from "./resolve-lite.ts";

export interface NameSets {
  isPredeclared: (name: string) => boolean;
  isUniversal: (name: string) => boolean;
}

export function parseAndResolve(filename: string, source: string, options: DialectOptions, names: NameSets): File {
  const file = parse(filename, source);
  resolveLite(file, options, names);
  return file;
}
