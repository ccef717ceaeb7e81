/**
 * Syntax and resolve phases: positioned diagnostics and the error the front end throws.
 *
 * A diagnostic reads `file:line:col: message` in starlark-go's wording. `render()` adds the source line and a caret
 * under the column, for people; lower layers never print, the CLI does.
 */

/** A position in a named file; line and col are 1-based, col counts Unicode code points. */
export interface Position {
  file: string;
  line: number;
  col: number;
}

export interface Diagnostic {
  pos: Position;
  message: string;
  /** A hint beyond starlark-go's message, shown by render() with its own source line (an unclosed bracket). */
  note?: { pos: Position; message: string };
}

export function formatPosition(p: Position): string {
  return `${p.file}:${p.line}:${p.col}`;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${formatPosition(d.pos)}: ${d.message}`;
}

/**
 * The source line of `pos` with a caret under its column. Tabs before the column are copied into the caret line so
 * the caret stays aligned however the terminal expands them.
 */
export function caretLines(source: string, pos: { line: number; col: number }): string {
  let start = 0;
  for (let l = 1; l < pos.line; l++) {
    const nl = source.indexOf("\n", start);
    if (nl < 0) return "";
    start = nl + 1;
  }
  let end = source.indexOf("\n", start);
  if (end < 0) end = source.length;
  const line = source.slice(start, end).replace(/\r$/, "");
  const chars = Array.from(line);
  let pad = "";
  for (let i = 0; i < pos.col - 1 && i < chars.length; i++) pad += chars[i] === "\t" ? "\t" : " ";
  if (pos.col - 1 > chars.length) pad += " ".repeat(pos.col - 1 - chars.length);
  return `${line}\n${pad}^`;
}

/**
 * Thrown by parseFile (the first syntax error, as starlark-go stops there) and by checkFile/resolution (all static
 * errors of the file). `message` is the first diagnostic, `file:line:col: message`.
 */
export class StarlarkSyntaxError extends Error {
  override name = "StarlarkSyntaxError";
  constructor(
    readonly diagnostics: Diagnostic[],
    /** The source text the positions refer to (for render); may be empty. */
    readonly source: string = "",
  ) {
    super(diagnostics.length > 0 ? formatDiagnostic(diagnostics[0]!) : "syntax error");
  }

  /** Every diagnostic with its source line and a caret, separated by blank lines. */
  render(): string {
    return this.diagnostics
      .map((d) => {
        const lines = this.source ? caretLines(this.source, d.pos) : "";
        const text = lines ? `${formatDiagnostic(d)}\n${indent(lines)}` : formatDiagnostic(d);
        if (!d.note) return text;
        const noteLines = this.source ? caretLines(this.source, d.note.pos) : "";
        const note = `${formatPosition(d.note.pos)}: note: ${d.note.message}`;
        return `${text}\n${noteLines ? `${note}\n${indent(noteLines)}` : note}`;
      })
      .join("\n");
  }
}

function indent(s: string): string {
  return s
    .split("\n")
    .map((l) => "    " + l)
    .join("\n");
}
