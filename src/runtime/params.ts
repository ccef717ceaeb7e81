/**
 * App params, as Clace reads them: the declarations from params.star (`param(name, type, default, ...)`), string
 * values from app metadata (`--param k=v`) parsed by the declared type, and the resolved list the app sees as
 * `param.<name>` and the container sees as its environment.
 */
import type { ParamInfo, ParamType, ParamValue } from "./app-config.ts";
import { RuntimeError } from "./errors.ts";

export const PARAM_TYPES: readonly ParamType[] = ["STRING", "INT", "BOOLEAN", "DICT", "LIST"];
/** Display types Clace accepts for STRING params (options may follow a ":"). */
export const DISPLAY_TYPES = ["PASSWORD", "TEXTAREA", "FILE"] as const;

/** One `param(...)` call from params.star, already checked. */
export interface ParamDecl {
  name: string;
  type: ParamType;
  /** undefined: no default given (None). */
  default: ParamValue | undefined;
  description: string;
  required: boolean;
  displayType: string;
  /** "params.star:3:1" when known, for messages. */
  where?: string;
}

export function isParamType(s: string): s is ParamType {
  return (PARAM_TYPES as readonly string[]).includes(s);
}

function zeroValue(type: ParamType): ParamValue {
  switch (type) {
    case "STRING":
      return "";
    case "INT":
      return 0;
    case "BOOLEAN":
      return false;
    case "DICT":
      return {};
    case "LIST":
      return [];
  }
}

function isPlainObject(v: unknown): v is Record<string, ParamValue> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Whether a default (already converted from Starlark) has the declared type. */
export function valueMatchesType(v: ParamValue, type: ParamType): boolean {
  switch (type) {
    case "STRING":
      return typeof v === "string";
    case "INT":
      return typeof v === "number" && Number.isInteger(v);
    case "BOOLEAN":
      return typeof v === "boolean";
    case "DICT":
      return isPlainObject(v);
    case "LIST":
      return Array.isArray(v);
  }
}

/** Validates one declaration the way Clace's param loader does; throws a "param" RuntimeError. */
export function checkParamDecl(decl: ParamDecl, existing: ReadonlyMap<string, ParamDecl>): ParamDecl {
  const at = decl.where;
  if (decl.name === "" || /\s/.test(decl.name)) {
    throw new RuntimeError("param", `param name ${JSON.stringify(decl.name)} is invalid: it must be non-empty and have no whitespace`, at);
  }
  if (existing.has(decl.name)) {
    throw new RuntimeError("param", `param ${decl.name} is declared more than once`, at, "remove the duplicate param() call");
  }
  if (decl.default !== undefined && decl.default !== null && !valueMatchesType(decl.default, decl.type)) {
    throw new RuntimeError(
      "param",
      `param ${decl.name}: default ${JSON.stringify(decl.default)} does not match its type ${decl.type}`,
      at,
    );
  }
  if (decl.displayType !== "") {
    if (decl.type !== "STRING") {
      throw new RuntimeError("param", `param ${decl.name}: display_type is allowed only for STRING params, not ${decl.type}`, at);
    }
    const base = decl.displayType.split(":")[0]!;
    if (!(DISPLAY_TYPES as readonly string[]).includes(base)) {
      throw new RuntimeError(
        "param",
        `param ${decl.name}: unknown display_type ${JSON.stringify(decl.displayType)} (known: ${DISPLAY_TYPES.join(", ")})`,
        at,
      );
    }
  }
  return decl;
}

const GO_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const GO_FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

function badValue(name: string, type: ParamType, raw: string, expected: string): RuntimeError {
  return new RuntimeError(
    "param",
    `invalid value ${JSON.stringify(raw)} for param ${name} of type ${type}: ${expected}`,
    `param ${name}`,
    `pass a valid value, e.g. --param ${name}=${exampleFor(type)}`,
  );
}

function exampleFor(type: ParamType): string {
  switch (type) {
    case "STRING":
      return "text";
    case "INT":
      return "8080";
    case "BOOLEAN":
      return "true";
    case "DICT":
      return `'{"key": "value"}'`;
    case "LIST":
      return `'["a", "b"]'`;
  }
}

/** Parses a metadata string by type: INT like Go's Atoi, BOOLEAN like ParseBool, DICT/LIST as JSON. */
export function parseParamValue(name: string, type: ParamType, raw: string): ParamValue {
  switch (type) {
    case "STRING":
      return raw;
    case "INT": {
      if (!/^[+-]?\d+$/.test(raw)) throw badValue(name, type, raw, "expected an integer");
      const n = Number(raw);
      if (!Number.isSafeInteger(n)) throw badValue(name, type, raw, "the integer is out of range");
      return n;
    }
    case "BOOLEAN":
      if (GO_TRUE.has(raw)) return true;
      if (GO_FALSE.has(raw)) return false;
      throw badValue(name, type, raw, "expected true or false (also 1/0, t/f)");
    case "DICT":
    case "LIST": {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        throw badValue(name, type, raw, `expected a JSON ${type === "DICT" ? "object" : "array"}`);
      }
      if (type === "DICT" ? !isPlainObject(parsed) : !Array.isArray(parsed)) {
        throw badValue(name, type, raw, `expected a JSON ${type === "DICT" ? "object" : "array"}`);
      }
      return parsed as ParamValue;
    }
  }
}

/** A resolved param: the declared ones plus undeclared metadata params (kept for the container env). */
export interface ResolvedParam extends ParamInfo {
  /** False for a metadata param that params.star does not declare. */
  declared: boolean;
}

/**
 * Resolves values: the default, overridden by a metadata value parsed by type. A required param with neither, or a
 * required STRING set to "", fails the load with Clace's message.
 */
export function resolveParams(decls: readonly ParamDecl[], values: Readonly<Record<string, string>>): ResolvedParam[] {
  const out: ResolvedParam[] = [];
  const declared = new Set<string>();
  for (const d of decls) {
    declared.add(d.name);
    let value: ParamValue | undefined = d.default === null ? undefined : d.default;
    const raw = Object.hasOwn(values, d.name) ? values[d.name] : undefined;
    if (raw !== undefined) value = parseParamValue(d.name, d.type, raw);
    if (d.required && (value === undefined || (d.type === "STRING" && value === ""))) {
      throw new RuntimeError(
        "param",
        `param ${d.name} is a required param, a value has to be provided`,
        undefined,
        `pass it with --param ${d.name}=<value>`,
      );
    }
    out.push({
      name: d.name,
      type: d.type,
      value: value ?? zeroValue(d.type),
      description: d.description,
      required: d.required,
      displayType: d.displayType,
      declared: true,
    });
  }
  for (const [name, raw] of Object.entries(values)) {
    if (declared.has(name)) continue;
    out.push({ name, type: "STRING", value: raw, description: "", required: false, displayType: "", declared: false });
  }
  return out;
}

/** A param value as the container sees it: strings as-is, DICT/LIST as JSON, the rest printed Go-style. */
export function paramEnvString(v: ParamValue): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null) return "";
  return JSON.stringify(v);
}

/** Parses `k=v` pairs from the command line (the value may itself contain "="). */
export function parseKeyValues(
  flag: string,
  pairs: readonly string[],
  kind: "param" | "conf" | "config" = "param",
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf("=");
    if (i <= 0) {
      throw new RuntimeError(kind, `${flag} ${JSON.stringify(p)} is not of the form key=value`, undefined, `write it as ${flag} key=value`);
    }
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}
