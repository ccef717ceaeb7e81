/**
 * A TOML text read with the positions config errors and warnings name (file:line:col). toml-eslint-parser keeps a
 * location for every table header and key, and its syntax errors carry the line and column where parsing stopped.
 */
import { getStaticTOMLValue, parseTOML, ParseError, type AST } from "toml-eslint-parser";

export interface TomlSite {
  line: number;
  col: number;
}

export interface TomlDocument {
  /** The values, nested as TOML defines them (dotted keys and [a.b] headers become nested tables). */
  readonly value: Record<string, unknown>;
  /** A key or table path (JSON of its parts) → where it is written. */
  readonly sites: ReadonlyMap<string, TomlSite>;
}

/** A text that is not valid TOML, with where the parser stopped (1-based line and column). */
export class TomlSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(`${line}:${col}: ${reason}`);
  }
}

const pathKey = (path: readonly (string | number)[]) => JSON.stringify(path.map(String));

/** Parses `text`; throws TomlSyntaxError for invalid TOML (duplicate keys included). */
export function readToml(text: string): TomlDocument {
  let program: AST.TOMLProgram;
  try {
    program = parseTOML(text);
  } catch (err) {
    if (err instanceof ParseError) {
      // Something left open (a header, a string, a list) is reported at the end of the text: name the last line
      // written instead, where the reader can see it.
      const written = text.trimEnd();
      if (err.index >= written.length) {
        const lines = written.split("\n");
        throw new TomlSyntaxError(err.message, lines.length, (lines.at(-1) ?? "").length + 1);
      }
      throw new TomlSyntaxError(err.message, err.lineNumber, err.column + 1);
    }
    throw err;
  }
  const sites = new Map<string, TomlSite>();
  const note = (path: readonly (string | number)[], node: AST.TOMLNode) => {
    const key = pathKey(path);
    if (!sites.has(key)) sites.set(key, { line: node.loc.start.line, col: node.loc.start.column + 1 });
  };
  const keyValues = (prefix: readonly (string | number)[], body: readonly AST.TOMLKeyValue[]) => {
    for (const kv of body) {
      const parts = kv.key.keys.map((k) => (k.type === "TOMLBare" ? k.name : k.value));
      // A dotted key (a.b.c = 1) writes its tables where it stands.
      for (let n = 1; n <= parts.length; n++) note([...prefix, ...parts.slice(0, n)], kv);
      if (kv.value.type === "TOMLInlineTable") keyValues([...prefix, ...parts], kv.value.body);
    }
  };
  for (const node of program.body[0]?.body ?? []) {
    if (node.type === "TOMLTable") {
      for (let n = 1; n <= node.resolvedKey.length; n++) note(node.resolvedKey.slice(0, n), node);
      keyValues(node.resolvedKey, node.body);
    } else {
      keyValues([], [node]);
    }
  }
  return { value: getStaticTOMLValue(program) as Record<string, unknown>, sites };
}

/** Where `path` (or the nearest enclosing key or table that was written) is. */
export function siteOf(doc: TomlDocument, path: readonly string[]): TomlSite | undefined {
  for (let n = path.length; n > 0; n--) {
    const site = doc.sites.get(pathKey(path.slice(0, n)));
    if (site !== undefined) return site;
  }
  return undefined;
}
