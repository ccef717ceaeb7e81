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

/**
 * A host value's way to say it has no such field (from HasAttrs.attr or HasSetField.setField), so that the
 * evaluator adds a spelling hint from its other field names, as for starlark-go's NoSuchAttrError.
 */
export class NoSuchAttrError extends StarError {
  constructor(message: string) {
    super(message);
    this.name = "NoSuchAttrError";
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

  /**
   * "file:line:col: message", the source line with a caret, and the Starlark backtrace. A run of identical
   * frames (deep recursion) shows its first few and a count of the rest.
   */
  render(): string {
    const out: string[] = [];
    const bt = this.backtrace;
    if (bt.length > 0) {
      out.push("Traceback (most recent call last):");
      for (let i = 0; i < bt.length; i++) {
        const f = bt[i]!;
        let run = 1;
        while (i + run < bt.length && sameFrame(bt[i + run]!, f)) run++;
        const shown = run > REPEATS_SHOWN + 1 ? REPEATS_SHOWN : run;
        for (let k = 0; k < shown; k++) {
          out.push(`  ${f.file}:${f.line}:${f.col}: in ${f.fn}`);
          const line = this.sourceLine(f);
          if (line !== undefined) out.push("    " + line.trim());
        }
        if (shown < run) out.push(`  [the frame above repeated ${run - shown} more times]`);
        i += run - 1;
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

  private lines = new Map<string, string[]>();
  private sourceLine(p: Position): string | undefined {
    let lines = this.lines.get(p.file);
    if (lines === undefined) {
      const src = this.sources.get(p.file);
      if (src === undefined) return undefined;
      this.lines.set(p.file, (lines = src.split("\n")));
    }
    return lines[p.line - 1]?.replace(/\t/g, " ");
  }
}

/** Identical frames in a row beyond this many are counted rather than listed. */
const REPEATS_SHOWN = 3;

function sameFrame(a: Frame, b: Frame): boolean {
  return a.line === b.line && a.col === b.col && a.fn === b.fn && a.file === b.file;
}
