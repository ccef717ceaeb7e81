/**
 * Runs params.star: plain Starlark with `param(...)`, the type constants STRING, INT, BOOLEAN, DICT, LIST, the
 * display types PASSWORD, TEXTAREA, FILE and `config` (Clace's ace.config), collecting the declarations.
 */
import { Builtin, None, toJS, unpackArgs, type Value } from "../starlark/index.ts";
import type { ParamValue } from "./app-config.ts";
import { checkParamDecl, isParamType, PARAM_TYPES, type ParamDecl } from "./params.ts";
import { ArgError, asBool, asString, isAbsent } from "./starlark-args.ts";

export interface ParamsStarEnv {
  predeclared: Record<string, Value>;
  decls: ParamDecl[];
}

export function paramsStarEnv(): ParamsStarEnv {
  const decls: ParamDecl[] = [];
  const byName = new Map<string, ParamDecl>();
  const param = new Builtin("param", (_t, args, kwargs) => {
    const fn = "param";
    const [name, type, dflt, description, required, displayType] = unpackArgs(fn, args, kwargs, [
      "name",
      "type?",
      "default?",
      "description?",
      "required?",
      "display_type?",
    ]);
    const typeName = asString(fn, "type", type, "STRING");
    if (!isParamType(typeName)) {
      throw new ArgError(`param: unknown type ${JSON.stringify(typeName)} (use one of ${PARAM_TYPES.join(", ")})`);
    }
    let defaultValue: ParamValue | undefined;
    if (!isAbsent(dflt)) {
      const js = toJS(dflt);
      if (js instanceof Map) throw new ArgError("param: a DICT default must have string keys");
      defaultValue = js as ParamValue;
    }
    const decl = checkParamDecl(
      {
        name: asString(fn, "name", name, ""),
        type: typeName,
        default: defaultValue,
        description: asString(fn, "description", description, ""),
        required: asBool(fn, "required", required, true),
        displayType: asString(fn, "display_type", displayType, ""),
      },
      byName,
    );
    byName.set(decl.name, decl);
    decls.push(decl);
    return None;
  });
  const config = new Builtin("config", (_t, args, kwargs) => {
    const [key, d] = unpackArgs("config", args, kwargs, ["key", "default?"]);
    asString("config", "key", key, "");
    return d ?? None;
  });
  const predeclared: Record<string, Value> = { param, config };
  for (const t of PARAM_TYPES) predeclared[t] = t;
  for (const d of ["PASSWORD", "TEXTAREA", "FILE"]) predeclared[d] = d;
  return { predeclared, decls };
}
