/**
 * clace-lite's Starlark interpreter: the package's public API. Other folders import only from here.
 */
export { APP_DIALECT, type DialectOptions } from "./options.ts";
export { nearest } from "./spell.ts";
export { StarlarkSyntaxError } from "./syntax/errors.ts";
export { parseFile } from "./syntax/parser.ts";
export { checkFile, UNIVERSE_NAMES, type NameSets } from "./resolve/index.ts";
export type { File as StarlarkFile } from "./syntax/ast.ts";
export { exec, type ExecOptions } from "./eval/exec.ts";
export type { Deadline } from "./eval/thread.ts";
export { MemoryBudget } from "./values/budget.ts";
export { StarlarkEvalError, StarError, NoSuchAttrError, type Position } from "./values/errors.ts";
export {
  None,
  Builtin,
  Struct,
  Module,
  Float,
  Bytes,
  List,
  Tuple,
  Range,
  typeName,
  truth,
  freeze,
  isNone,
  isBool,
  isInt,
  isString,
  isFloat,
  isList,
  isTuple,
  isCallable,
  type Value,
  type Callable,
  type HasAttrs,
  type ThreadLike as Thread,
  type CallFrame,
  type HasSetField,
  type HasBinary,
  type HostIterable,
} from "./values/value.ts";
export { Dict, StarSet } from "./values/hashtable.ts";
export { unpackArgs } from "./values/args.ts";
export { toJS, fromJS } from "./values/convert.ts";
export { str, repr } from "./values/format.ts";
export { equals } from "./values/compare.ts";
export { jsonModule } from "./modules/json.ts";
export { mathModule } from "./modules/math.ts";
export { runTestSource, goRegExp, STRUCT_BUILTIN, type FileResult, type TestHarness } from "./testing/runner.ts";

import { Dict as DictClass } from "./values/hashtable.ts";
import type { Value as V } from "./values/value.ts";
export const isDict = (v: V): v is DictClass => v instanceof DictClass;
