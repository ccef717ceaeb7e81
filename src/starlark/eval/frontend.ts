/** The evaluator's view of the front end: source text to a resolved AST (throws StarlarkSyntaxError). */
export { parseAndResolve, type NameSets } from "../resolve/index.ts";
