/** Resolve phase: static name binding. See resolver.ts. */
export { resolveFile, type NameSets } from "./resolver.ts";
export { checkFile, parseAndResolve, UNIVERSE_NAMES } from "./check.ts";
