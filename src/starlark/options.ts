/**
 * Dialect options: the language variations starlark-go exposes as flags (`-set`, `-while`, `-recursion`,
 * `-globalreassign`, `-toplevelcontrol`, `-loadbindsglobally`). The front end reads all but `recursion`, which the
 * evaluator enforces at run time.
 */
export interface DialectOptions {
  /** Allow the `set` builtin. */
  set?: boolean;
  /** Allow `while` loops. */
  while?: boolean;
  /** Allow recursive calls (checked at run time). */
  recursion?: boolean;
  /** Allow a top-level name to be bound more than once (and top-level `if`/`for` as in Bazel BUILD files). */
  globalReassign?: boolean;
  /** Allow `if`, `for` and `while` statements at top level. */
  topLevelControl?: boolean;
  /** Make `load` bind globals (visible to other modules) instead of file-local names. */
  loadBindsGlobally?: boolean;
}

/** The dialect of app.star and params.star files, as in Clace. */
export const APP_DIALECT: DialectOptions = Object.freeze({ while: true, recursion: true, set: true });

/** Maps a test-file `option:NAME` (starlark-go's lowercase flag name) to its DialectOptions key. */
export const OPTION_NAMES: Readonly<Record<string, keyof DialectOptions>> = Object.freeze({
  set: "set",
  while: "while",
  recursion: "recursion",
  globalreassign: "globalReassign",
  toplevelcontrol: "topLevelControl",
  loadbindsglobally: "loadBindsGlobally",
});
