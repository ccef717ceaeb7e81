/**
 * Where things are written in a TOML file, so that config errors and warnings can name file:line:col. Bun.TOML.parse
 * reads the values but keeps no positions; this scanner follows only the structure (tables, keys, where each
 * statement starts and ends) and never decides what is valid TOML: it does not throw, and a text Bun rejects still
 * gets a best-effort layout.
 */

export interface TomlSite {
  line: number;
  col: number;
}

export interface TomlLayout {
  /** A key or table path (JSON of its parts, as Bun.TOML.parse nests them) → where it is written. */
  readonly sites: ReadonlyMap<string, TomlSite>;
  /** Each statement (a table header or key = value), by its first and last line. */
  readonly statements: readonly { start: number; end: number }[];
}

const pathKey = (path: readonly string[]) => JSON.stringify(path);

/** Where `path` (or the nearest enclosing key or table that was written) is. */
export function siteOf(layout: TomlLayout, path: readonly string[]): TomlSite | undefined {
  for (let n = path.length; n > 0; n--) {
    const site = layout.sites.get(pathKey(path.slice(0, n)));
    if (site !== undefined) return site;
  }
  return undefined;
}

/**
 * The line of the first statement that makes a TOML text invalid: the shortest whole-statement prefix that Bun
 * refuses ends with it. Only called once parsing the whole text failed.
 */
export function firstBadLine(text: string, layout: TomlLayout): number | undefined {
  const lines = text.split("\n");
  for (const st of layout.statements) {
    try {
      Bun.TOML.parse(lines.slice(0, st.end).join("\n") + "\n");
    } catch {
      return st.start;
    }
  }
  return undefined;
}

const BARE_KEY = /[A-Za-z0-9_-]/;

export function tomlLayout(text: string): TomlLayout {
  const sites = new Map<string, TomlSite>();
  const statements: { start: number; end: number }[] = [];
  const arrayCounts = new Map<string, number>();
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const n = text.length;

  const advance = () => {
    if (text[i] === "\n") {
      line++;
      lineStart = i + 1;
    }
    i++;
  };
  const here = (): TomlSite => ({ line, col: i - lineStart + 1 });
  const skipSpaces = () => {
    while (i < n && (text[i] === " " || text[i] === "\t")) i++;
  };
  const skipComment = () => {
    if (text[i] === "#") while (i < n && text[i] !== "\n") i++;
  };
  const skipBlank = () => {
    for (;;) {
      skipSpaces();
      skipComment();
      if (i < n && (text[i] === "\n" || text[i] === "\r")) advance();
      else return;
    }
  };
  const toLineEnd = () => {
    while (i < n && text[i] !== "\n") i++;
  };

  /** A quoted key or string on one line; returns its text with the common escapes decoded. */
  const quoted = (): string => {
    const q = text[i]!;
    i++;
    let out = "";
    while (i < n && text[i] !== q && text[i] !== "\n") {
      if (q === '"' && text[i] === "\\" && i + 1 < n) {
        const e = text[i + 1]!;
        if (e === "u" || e === "U") {
          const len = e === "u" ? 4 : 8;
          out += String.fromCodePoint(parseInt(text.slice(i + 2, i + 2 + len), 16) || 0xfffd);
          i += 2 + len;
          continue;
        }
        out += ({ n: "\n", t: "\t", r: "\r", b: "\b", f: "\f" } as Record<string, string>)[e] ?? e;
        i += 2;
        continue;
      }
      out += text[i];
      i++;
    }
    if (text[i] === q) i++;
    return out;
  };

  /** A dotted key: its parts. */
  const key = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      skipSpaces();
      if (text[i] === '"' || text[i] === "'") parts.push(quoted());
      else {
        const start = i;
        while (i < n && BARE_KEY.test(text[i]!)) i++;
        if (i === start) return parts;
        parts.push(text.slice(start, i));
      }
      skipSpaces();
      if (text[i] !== ".") return parts;
      i++;
    }
  };

  const multiline = (delim: string) => {
    i += 3;
    while (i < n && !text.startsWith(delim, i)) {
      // An escaped character (a quote, or the line end of a line-ending backslash) never closes the string.
      if (delim === '"""' && text[i] === "\\") advance();
      advance();
    }
    i += 3;
    // A closing delimiter may be preceded by up to two quotes of the content.
    for (let k = 0; k < 2 && text[i] === delim[0]; k++) i++;
  };

  const value = (path: string[]) => {
    const c = text[i];
    if (c === '"' || c === "'") {
      if (text.startsWith(c.repeat(3), i)) multiline(c.repeat(3));
      else quoted();
    } else if (c === "[") {
      i++;
      for (let index = 0; ; index++) {
        skipBlank();
        if (i >= n || text[i] === "]") break;
        value([...path, String(index)]);
        skipBlank();
        if (text[i] === ",") i++;
        else if (text[i] !== "]") break;
      }
      if (text[i] === "]") i++;
    } else if (c === "{") {
      i++;
      for (;;) {
        skipBlank();
        if (i >= n || text[i] === "}") break;
        const at = here();
        const inner = key();
        if (inner.length === 0) break;
        sites.set(pathKey([...path, ...inner]), at);
        skipSpaces();
        if (text[i] !== "=") break;
        i++;
        skipSpaces();
        value([...path, ...inner]);
        skipBlank();
        if (text[i] === ",") i++;
      }
      if (text[i] === "}") i++;
    } else {
      while (i < n && !" \t,]}#\r\n".includes(text[i]!)) i++;
    }
  };

  let table: string[] = [];
  for (;;) {
    skipBlank();
    if (i >= n) break;
    const start = line;
    const at = here();
    if (text[i] === "[") {
      const isArray = text[i + 1] === "[";
      i += isArray ? 2 : 1;
      const path = key();
      if (isArray) {
        const count = arrayCounts.get(pathKey(path)) ?? 0;
        arrayCounts.set(pathKey(path), count + 1);
        table = [...path, String(count)];
      } else {
        table = path;
      }
      sites.set(pathKey(table), at);
    } else {
      const own = key();
      const path = [...table, ...own];
      if (own.length > 0) sites.set(pathKey(path), at);
      skipSpaces();
      if (text[i] === "=") {
        i++;
        skipSpaces();
        value(path);
      }
    }
    toLineEnd();
    statements.push({ start, end: line });
  }
  return { sites, statements };
}
