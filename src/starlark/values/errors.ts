/**
 * Runtime errors. Value operations throw `StarError` with just a message; the evaluator attaches the position of
 * the failing operation and the call stack, and turns it into the public `StarlarkEvalError` at the boundary.
 */

export interface Position {
  file: string;
  line: number;
  col: number;
}

export interface Frame extends Position {
  fn: string;
}

/** An error raised while evaluating; pos/backtrace are filled in by the evaluator as it propagates. */
export class StarError extends Error {
  pos?: Position;
  backtrace?: Frame[];
  constructor(message: string) {
    super(message);
    this.name = "StarError";
  }
}

/** Raised by `fail(...)`: the message already starts with "fail: ". */
export class StarlarkEvalError extends Error {
  readonly pos: Position;
  readonly backtrace: Frame[];
  /** The source text of the file the error happened in, for the caret line (when known). */
  private readonly sources: Map<string, string>;
  constructor(message: string, pos: Position, backtrace: Frame[], sources?: Map<string, string>) {
    super(message);
    this.name = "StarlarkEvalError";
    this.pos = pos;
    this.backtrace = backtrace;
    this.sources = sources ?? new Map();
  }

  /** "file:line:col: message", the source line with a caret, and the Starlark backtrace. */
  render(): string {
    const out: string[] = [];
    if (this.backtrace.length > 0) {
      out.push("Traceback (most recent call last):");
      for (const f of this.backtrace) {
        out.push(`  ${f.file}:${f.line}:${f.col}: in ${f.fn}`);
        const line = this.sourceLine(f);
        if (line !== undefined) out.push("    " + line.trim());
      }
    }
    out.push(`${this.pos.file}:${this.pos.line}:${this.pos.col}: ${this.message}`);
    const line = this.sourceLine(this.pos);
    if (line !== undefined) {
      out.push(line);
      out.push(" ".repeat(Math.max(0, this.pos.col - 1)) + "^");
    }
    return out.join("\n");
  }

  private sourceLine(p: Position): string | undefined {
    const src = this.sources.get(p.file);
    if (src === undefined) return undefined;
    return src.split("\n")[p.line - 1]?.replace(/\t/g, " ");
  }
}
