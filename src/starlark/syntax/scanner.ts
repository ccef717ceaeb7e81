/**
 * The scanner: source text to a token vector, as starlark-go's syntax/scan.go does it.
 *
 * It produces NEWLINE, INDENT and OUTDENT from the layout: indentation counts tab stops of 8 (with starlark-go's
 * exact arithmetic), newlines and indentation inside (), [] and {} are ignored, blank and comment-only lines are
 * skipped, a backslash before a newline joins lines, and at the end of the file a NEWLINE (if the last line had no
 * newline) and the pending OUTDENTs come before EOF. Synthetic tokens carry real positions: INDENT/OUTDENT the
 * first character of their line, EOF the end of the text.
 *
 * Like starlark-go, scanning stops at the first error. The error is returned beside the tokens scanned so far, which
 * end with a SCAN_ERROR token at the place the scanner stopped; the parser reports whichever error comes first.
 */
import type { Pos } from "./ast.ts";
import { unquote } from "./quote.ts";
import { KEYWORDS, T, Token } from "./tokens.ts";
import type { TokenType } from "chevrotain";

export interface ScanError {
  pos: Pos;
  message: string;
}

export interface ScanResult {
  tokens: Token[];
  error: ScanError | null;
}

const TAB = 8;

// Character codes used below.
const NL = 10;
const SPACE = 32;
const HTAB = 9;
const HASH = 35;
const BACKSLASH = 92;
const DQUOTE = 34;
const SQUOTE = 39;

class ScanFailure {
  constructor(
    readonly pos: Pos,
    readonly message: string,
  ) {}
}

const IDENT_START = /[\p{L}_]/u;

function isIdentStart(c: number): boolean {
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
  return IDENT_START.test(String.fromCodePoint(c));
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isIdent(c: number): boolean {
  return isDigit(c) || isIdentStart(c);
}
function isHex(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}
function isOctal(c: number): boolean {
  return c >= 48 && c <= 55;
}
function isBinary(c: number): boolean {
  return c === 48 || c === 49;
}

// Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const GO_PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Go's %q of a rune: the character in single quotes, escaped when it is not printable (as strconv.QuoteRune). */
export function quoteRune(c: number): string {
  const named: Record<number, string> = { 7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v", 39: "\\'", 92: "\\\\" };
  if (named[c] !== undefined) return `'${named[c]}'`;
  const ch = String.fromCodePoint(c);
  if (GO_PRINTABLE.test(ch)) return `'${ch}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, "0")}'`;
  return c > 0xffff ? `'\\U${c.toString(16).padStart(8, "0")}'` : `'\\u${c.toString(16).padStart(4, "0")}'`;
}

class Scanner {
  private i = 0;
  private line = 1;
  private col = 1;
  private depth = 0;
  private readonly indentstk: number[] = [0];
  private lineStart = true;
  readonly tokens: Token[] = [];
  private readonly n: number;

  constructor(private readonly src: string) {
    this.n = src.length;
  }

  /** The code point at the current index (0 at the end; a NUL in the text also reads as the end, as in Go). */
  private peek(): number {
    if (this.i >= this.n) return 0;
    const c = this.src.charCodeAt(this.i);
    if (c < 0xd800 || c > 0xdbff) return c;
    return this.src.codePointAt(this.i)!;
  }

  /** Consumes one code point. */
  private read(): number {
    const c = this.peek();
    this.i += c > 0xffff ? 2 : 1;
    if (c === NL) {
      this.line++;
      this.col = 1;
    } else {
      this.col++;
    }
    return c;
  }

  private pos(): Pos {
    return { line: this.line, col: this.col };
  }

  private fail(pos: Pos, message: string): never {
    throw new ScanFailure(pos, message);
  }

  private emit(type: TokenType, startOffset: number, start: Pos, value: number | bigint | string | null = null, image?: string): void {
    const end = this.i === startOffset ? start : this.pos();
    const img = image ?? this.src.slice(startOffset, this.i);
    this.tokens.push(new Token(type, img, startOffset, this.i, start, end, value, this.tokens.length));
  }

  run(): void {
    for (;;) {
      // Leading spaces and indentation.
      let c: number;
      let blank = false;
      const savedLineStart = this.lineStart;
      if (this.lineStart) {
        this.lineStart = false;
        let col = 0;
        for (;;) {
          c = this.peek();
          if (c === SPACE) {
            col++;
            this.read();
          } else if (c === HTAB) {
            // starlark-go's arithmetic: uses the position's column (a tab counts one), not the visual column.
            col += TAB - ((this.col - 1) % TAB);
            this.read();
          } else break;
        }
        if (c === HASH || c === NL || c === 0) blank = true;
        if (!blank && this.depth === 0) {
          const cur = this.indentstk[this.indentstk.length - 1]!;
          if (col > cur) {
            this.indentstk.push(col);
            this.emit(T.INDENT, this.i, this.pos(), null, "");
          } else if (col < cur) {
            const at = this.pos();
            let dents = 0;
            while (this.indentstk.length > 0 && col < this.indentstk[this.indentstk.length - 1]!) {
              this.indentstk.pop();
              dents++;
            }
            if (this.indentstk.length === 0 || col !== this.indentstk[this.indentstk.length - 1]) {
              this.fail(at, "unindent does not match any outer indentation level");
            }
            for (let k = 0; k < dents; k++) this.emit(T.OUTDENT, this.i, at, null, "");
          }
        }
      }

      // Spaces within the line.
      c = this.peek();
      while (c === SPACE || c === HTAB) {
        this.read();
        c = this.peek();
      }

      // A comment runs to the end of the line.
      if (c === HASH) {
        while (c !== 0 && c !== NL) {
          this.read();
          c = this.peek();
        }
      }

      if (c === NL) {
        this.lineStart = true;
        if (blank || this.depth > 0) {
          this.read();
          continue;
        }
        const start = this.pos();
        const off = this.i;
        this.read();
        this.emit(T.NEWLINE, off, start, null, "\n");
        continue;
      }

      if (c === 0 && this.i >= this.n) {
        if (this.indentstk.length > 1) {
          const at = this.pos();
          if (!savedLineStart) {
            this.lineStart = true;
            this.emit(T.NEWLINE, this.i, at, null, "\n");
            continue;
          }
          while (this.indentstk.length > 1) {
            this.indentstk.pop();
            this.emit(T.OUTDENT, this.i, at, null, "");
          }
        }
        this.emit(T.EOF, this.i, this.pos(), null, "");
        return;
      }

      // Line continuation.
      if (c === BACKSLASH) {
        this.read();
        if (this.peek() !== NL) this.fail(this.pos(), "stray backslash in program");
        this.read();
        continue;
      }

      this.token(c);
    }
  }

  /** Scans one token starting with c (not a space, newline, comment or backslash). */
  private token(c: number): void {
    const start = this.pos();
    const off = this.i;
    const src = this.src;

    if (c === 44 /* , */) {
      this.read();
      this.emit(T.COMMA, off, start);
      return;
    }
    if (c === DQUOTE || c === SQUOTE) {
      this.string(off, start);
      return;
    }
    if (isIdentStart(c)) {
      const c1 = src.charCodeAt(off + 1);
      if ((c === 114 /* r */ || c === 98) /* b */ && (c1 === DQUOTE || c1 === SQUOTE)) {
        this.read();
        this.string(off, start);
        return;
      }
      if (c === 114 && c1 === 98 && (src.charCodeAt(off + 2) === DQUOTE || src.charCodeAt(off + 2) === SQUOTE)) {
        this.read();
        this.read();
        this.string(off, start);
        return;
      }
      while (isIdent(c)) {
        this.read();
        c = this.peek();
      }
      const word = src.slice(off, this.i);
      const kw = KEYWORDS.get(word);
      this.emit(kw ?? T.IDENT, off, start, null, word);
      return;
    }
    switch (c) {
      case 40: // (
      case 91: // [
      case 123: // {
        this.depth++;
        this.read();
        this.emit(c === 40 ? T.LPAREN : c === 91 ? T.LBRACK : T.LBRACE, off, start);
        return;
      case 41: // )
      case 93: // ]
      case 125: // }
        // As starlark-go's scanner: a closer with no bracket open is an error here, before the parser sees it.
        if (this.depth === 0) this.fail(start, `unexpected ${quoteRune(c)}`);
        this.depth--;
        this.read();
        this.emit(c === 41 ? T.RPAREN : c === 93 ? T.RBRACK : T.RBRACE, off, start);
        return;
    }
    if (isDigit(c) || c === 46 /* . */) {
      this.number(c, off, start);
      return;
    }
    this.punct(c, off, start);
  }

  private punct(c: number, off: number, start: Pos): void {
    const next = () => this.peek();
    switch (c) {
      case 58: // :
        this.read();
        return this.emit(T.COLON, off, start);
      case 59: // ;
        this.read();
        return this.emit(T.SEMI, off, start);
      case 42: // *
        this.read();
        if (next() === 42) {
          this.read();
          return this.emit(T.STARSTAR, off, start);
        }
        if (next() === 61) {
          this.read();
          return this.emit(T.STAR_EQ, off, start);
        }
        return this.emit(T.STAR, off, start);
      case 61: // =
      case 60: // <
      case 62: // >
      case 33: // !
      case 43: // +
      case 45: // -
      case 37: // %
      case 47: // /
      case 38: // &
      case 124: // |
      case 94: // ^
      case 126: {
        // ~
        this.read();
        if (next() === 61 /* = */ && c !== 126) {
          this.read();
          const withEq: Record<number, TokenType> = {
            60: T.LE,
            62: T.GE,
            61: T.EQL,
            33: T.NEQ,
            43: T.PLUS_EQ,
            45: T.MINUS_EQ,
            47: T.SLASH_EQ,
            37: T.PERCENT_EQ,
            38: T.AMP_EQ,
            124: T.PIPE_EQ,
            94: T.CIRCUMFLEX_EQ,
          };
          return this.emit(withEq[c]!, off, start);
        }
        switch (c) {
          case 61:
            return this.emit(T.EQ, off, start);
          case 60:
            if (next() === 60) {
              this.read();
              if (next() === 61) {
                this.read();
                return this.emit(T.LTLT_EQ, off, start);
              }
              return this.emit(T.LTLT, off, start);
            }
            return this.emit(T.LT, off, start);
          case 62:
            if (next() === 62) {
              this.read();
              if (next() === 61) {
                this.read();
                return this.emit(T.GTGT_EQ, off, start);
              }
              return this.emit(T.GTGT, off, start);
            }
            return this.emit(T.GT, off, start);
          case 33:
            return this.fail(start, "unexpected input character '!'");
          case 43:
            return this.emit(T.PLUS, off, start);
          case 45:
            return this.emit(T.MINUS, off, start);
          case 47:
            if (next() === 47) {
              this.read();
              if (next() === 61) {
                this.read();
                return this.emit(T.SLASHSLASH_EQ, off, start);
              }
              return this.emit(T.SLASHSLASH, off, start);
            }
            return this.emit(T.SLASH, off, start);
          case 37:
            return this.emit(T.PERCENT, off, start);
          case 38:
            return this.emit(T.AMP, off, start);
          case 124:
            return this.emit(T.PIPE, off, start);
          case 94:
            return this.emit(T.CIRCUMFLEX, off, start);
          case 126:
            return this.emit(T.TILDE, off, start);
        }
      }
    }
    this.fail(start, `unexpected input character ${quoteRune(c)}`);
  }

  private number(c: number, off: number, start: Pos): void {
    let fraction = false;
    let exponent = false;
    if (c === 46) {
      // A dot, or the start of a fraction.
      this.read();
      c = this.peek();
      if (!isDigit(c)) {
        this.emit(T.DOT, off, start);
        return;
      }
      fraction = true;
    } else if (c === 48) {
      // 0: hex, octal, binary, float, or an obsolete octal such as 0755.
      this.read();
      c = this.peek();
      if (c === 46) {
        fraction = true;
      } else if (c === 120 || c === 88) {
        this.read();
        c = this.peek();
        if (!isHex(c)) this.fail(start, "invalid hex literal");
        while (isHex(c)) {
          this.read();
          c = this.peek();
        }
      } else if (c === 111 || c === 79) {
        this.read();
        c = this.peek();
        if (!isOctal(c)) this.fail(this.pos(), "invalid octal literal");
        while (isOctal(c)) {
          this.read();
          c = this.peek();
        }
      } else if (c === 98 || c === 66) {
        this.read();
        c = this.peek();
        if (!isBinary(c)) this.fail(this.pos(), "invalid binary literal");
        while (isBinary(c)) {
          this.read();
          c = this.peek();
        }
      } else {
        let allzeros = true;
        let octal = true;
        while (isDigit(c)) {
          if (c !== 48) allzeros = false;
          if (c > 55) octal = false;
          this.read();
          c = this.peek();
        }
        if (c === 46) fraction = true;
        else if (c === 101 || c === 69) exponent = true;
        else if (octal && !allzeros) {
          this.fail(this.pos(), `obsolete form of octal literal; use 0o${this.src.slice(off + 1, this.i)}`);
        }
      }
    } else {
      while (isDigit(c)) {
        this.read();
        c = this.peek();
      }
      if (c === 46) fraction = true;
      else if (c === 101 || c === 69) exponent = true;
    }

    if (fraction) {
      this.read(); // '.'
      c = this.peek();
      while (isDigit(c)) {
        this.read();
        c = this.peek();
      }
      if (c === 101 || c === 69) exponent = true;
    }
    if (exponent) {
      this.read(); // [eE]
      c = this.peek();
      if (c === 43 || c === 45) {
        this.read();
        c = this.peek();
        if (!isDigit(c)) this.fail(this.pos(), "invalid float literal");
      }
      while (isDigit(c)) {
        this.read();
        c = this.peek();
      }
    }

    const raw = this.src.slice(off, this.i);
    if (fraction || exponent) {
      const last = raw.charCodeAt(raw.length - 1);
      const f = Number(raw);
      if (!Number.isFinite(f) || last === 101 || last === 69) this.fail(this.pos(), "invalid float literal");
      this.emit(T.FLOAT, off, start, f);
      return;
    }
    let v: number | bigint;
    if (raw.length < 16 && (raw.length === 1 || raw.charCodeAt(1) < 58)) {
      // Plain decimal (or "00"), small enough to be exact as a double.
      if (raw.length > 1 && raw.charCodeAt(0) === 48 && !/^0+$/.test(raw)) this.fail(start, "invalid int literal");
      v = Number(raw);
    } else {
      if (raw.length > 1 && raw.charCodeAt(0) === 48 && raw.charCodeAt(1) < 58 && !/^0+$/.test(raw)) {
        this.fail(start, "invalid int literal");
      }
      const b = BigInt(raw);
      v = b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
    }
    this.emit(T.INT, off, start, v);
  }

  /** Scans a string or bytes literal; the prefix (r, b, rb), if any, has been read and `off` is its start. */
  private string(off: number, tokStart: Pos): void {
    const quoteStart = this.pos();
    const quote = this.peek();
    const src = this.src;
    const triple = src.charCodeAt(this.i + 1) === quote && src.charCodeAt(this.i + 2) === quote;
    this.read();
    if (!triple) {
      for (;;) {
        if (this.i >= this.n) this.fail(tokStart, "unexpected EOF in string");
        const c = this.read();
        if (c === quote) break;
        if (c === NL) this.fail(tokStart, "unexpected newline in string");
        if (c === BACKSLASH) {
          if (this.i >= this.n) this.fail(tokStart, "unexpected EOF in string");
          this.read();
        }
      }
    } else {
      this.read();
      this.read();
      let quotes = 0;
      for (;;) {
        if (this.i >= this.n) this.fail(tokStart, "unexpected EOF in string");
        const c = this.read();
        if (c === quote) {
          quotes++;
          if (quotes === 3) break;
        } else {
          quotes = 0;
        }
        if (c === BACKSLASH) {
          if (this.i >= this.n) this.fail(tokStart, "unexpected EOF in string");
          this.read();
        }
      }
    }
    const raw = src.slice(off, this.i);
    const r = unquote(raw);
    if (typeof r === "object") this.fail(quoteStart, r.error);
    const isBytes = raw.charCodeAt(0) === 98 || (raw.charCodeAt(0) === 114 && raw.charCodeAt(1) === 98);
    this.emit(isBytes ? T.BYTES : T.STRING, off, tokStart, r, raw);
  }

  /** Called after a failure: the tokens so far plus a SCAN_ERROR token at the failure. */
  stop(f: ScanFailure): void {
    this.tokens.push(new Token(T.SCAN_ERROR, "", this.i, this.i, f.pos, f.pos, null, this.tokens.length));
  }
}

/** Scans a whole file. Carriage returns (\r\n or a lone \r) count as newlines, as in starlark-go. */
export function scan(source: string): ScanResult {
  const src = source.indexOf("\r") >= 0 ? source.replace(/\r\n?/g, "\n") : source;
  const s = new Scanner(src);
  try {
    s.run();
    return { tokens: s.tokens, error: null };
  } catch (e) {
    if (e instanceof ScanFailure) {
      s.stop(e);
      return { tokens: s.tokens, error: { pos: e.pos, message: e.message } };
    }
    throw e;
  }
}
