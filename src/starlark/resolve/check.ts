/**
 * The front end as one call: parse and resolve a file, throwing StarlarkSyntaxError with every static error.
 * The evaluator uses `parseAndResolve` with its own name sets; `checkFile` (the `star check` command) defaults to
 * the universe of the spec.
 */
import type * as A from "../syntax/ast.ts";
import { StarlarkSyntaxError } from "../syntax/errors.ts";
import { parseFile } from "../syntax/parser.ts";
import type { DialectOptions } from "../options.ts";
import { resolveFile, type NameSets } from "./resolver.ts";

/** The universal names of the spec (starlark-go's Universe). */
export const UNIVERSE_NAMES: ReadonlySet<string> = new Set([
  "None", "True", "False", "abs", "any", "all", "bool", "bytes", "chr", "dict", "dir", "enumerate", "fail",
  "float", "getattr", "hasattr", "hash", "int", "len", "list", "max", "min", "ord", "print", "range", "repr",
  "reversed", "set", "sorted", "str", "tuple", "type", "zip",
]);

const DEFAULT_NAMES: NameSets = { isPredeclared: () => false, isUniversal: (n) => UNIVERSE_NAMES.has(n) };

/** Parses and resolves; throws StarlarkSyntaxError (first syntax error, or all resolve errors). */
export function parseAndResolve(filename: string, source: string, options: DialectOptions, names: NameSets): A.File {
  const file = parseFile(filename, source, options);
  const errors = resolveFile(file, options, names);
  if (errors.length > 0) throw new StarlarkSyntaxError(errors, source);
  return file;
}

/**
 * Checks a file statically (parse + resolve). `names` defaults to the spec's universe and no predeclared names;
 * pass the host's sets to check a file for a particular environment (e.g. app.star with `ace`).
 */
export function checkFile(filename: string, source: string, options: DialectOptions = {}, names: NameSets = DEFAULT_NAMES): void {
  parseAndResolve(filename, source, options, names);
}
