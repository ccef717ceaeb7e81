/**
 * `json.indent` as starlark-go does it: Go's encoding/json.Indent, which validates with Go's JSON scanner as it
 * re-prints. So its errors are that scanner's (`invalid character '!' looking for beginning of value`,
 * `unexpected end of JSON input`), string and number literals are copied byte for byte, leading space is dropped
 * and trailing space kept. The scanner is stricter than json.decode: a raw control character inside a string is
 * an error here.
 */
import { bytesOf, decodeUTF8 } from "../values/strings.ts";

/** Go's encoding/json limit on nested arrays and objects. */
const MAX_NESTING = 10000;

/** What one input byte is to the re-printer (Go's scanXxx results, reduced to what Indent needs). */
const enum Step {
  Copy, // inside a literal: copy as is
  Skip, // white space between tokens
  Punct, // a structural byte, or the first byte of a literal
  Error,
}

const enum State {
  BeginValueOrEmpty,
  BeginValue,
  BeginStringOrEmpty,
  BeginString,
  EndValue,
  EndTop,
  InString,
  InStringEsc,
  InStringEscU, // then U1, U12, U123: the count of hex digits seen
  InStringEscU1,
  InStringEscU12,
  InStringEscU123,
  Neg,
  One, // in the integer part after a leading 1-9
  Zero,
  Dot,
  Dot0,
  E,
  ESign,
  E0,
  Literal, // in true/false/null: `word` and `at` say which byte comes next
}

const enum Parse {
  ObjectKey,
  ObjectValue,
  ArrayValue,
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** How Go's scanner quotes an offending byte: like %q of the byte taken as a rune. */
function quoteChar(c: number): string {
  switch (c) {
    case 0x27: return "'\\''";
    case 0x5c: return "'\\\\'";
    case 7: return "'\\a'";
    case 8: return "'\\b'";
    case 12: return "'\\f'";
    case 10: return "'\\n'";
    case 13: return "'\\r'";
    case 9: return "'\\t'";
    case 11: return "'\\v'";
  }
  if (c < 0x20 || c === 0x7f) return "'\\x" + c.toString(16).padStart(2, "0") + "'";
  // U+0080..U+00A0 and the soft hyphen are not printable to Go: \u escapes.
  if ((c >= 0x80 && c <= 0xa0) || c === 0xad) return "'\\u00" + c.toString(16) + "'";
  return "'" + String.fromCharCode(c) + "'";
}

class JSONSyntaxError extends Error {}

/** Go's JSON scanner, one byte at a time. */
class Scanner {
  state = State.BeginValue;
  private stack: Parse[] = [];
  endTop = false;
  private word = "";
  private at = 0;

  private fail(c: number, context: string): never {
    throw new JSONSyntaxError(`invalid character ${quoteChar(c)} ${context}`);
  }

  private push(c: number, p: Parse): void {
    this.stack.push(p);
    if (this.stack.length > MAX_NESTING) this.fail(c, "exceeded max depth");
  }

  private beginLiteralWord(word: string): Step {
    this.word = word;
    this.at = 1;
    this.state = State.Literal;
    return Step.Punct;
  }

  step(c: number): Step {
    switch (this.state) {
      case State.BeginValueOrEmpty:
        if (isSpace(c)) return Step.Skip;
        if (c === 0x5d) return this.endValue(c);
        return this.beginValue(c);
      case State.BeginValue:
        return this.beginValue(c);
      case State.BeginStringOrEmpty:
        if (isSpace(c)) return Step.Skip;
        if (c === 0x7d) {
          this.stack[this.stack.length - 1] = Parse.ObjectValue;
          return this.endValue(c);
        }
        return this.beginString(c);
      case State.BeginString:
        return this.beginString(c);
      case State.EndValue:
        return this.endValue(c);
      case State.EndTop:
        if (!isSpace(c)) this.fail(c, "after top-level value");
        return Step.Punct; // Indent copies trailing space
      case State.InString:
        if (c === 0x22) this.state = State.EndValue;
        else if (c === 0x5c) this.state = State.InStringEsc;
        else if (c < 0x20) this.fail(c, "in string literal");
        return Step.Copy;
      case State.InStringEsc:
        if ('bfnrt\\/"'.includes(String.fromCharCode(c))) this.state = State.InString;
        else if (c === 0x75) this.state = State.InStringEscU;
        else this.fail(c, "in string escape code");
        return Step.Copy;
      case State.InStringEscU:
      case State.InStringEscU1:
      case State.InStringEscU12:
      case State.InStringEscU123:
        if (!isHex(c)) this.fail(c, "in \\u hexadecimal character escape");
        this.state = this.state === State.InStringEscU123 ? State.InString : ((this.state + 1) as State);
        return Step.Copy;
      case State.Neg:
        if (c === 0x30) this.state = State.Zero;
        else if (c >= 0x31 && c <= 0x39) this.state = State.One;
        else this.fail(c, "in numeric literal");
        return Step.Copy;
      case State.One:
        if (isDigit(c)) return Step.Copy;
        return this.afterInteger(c);
      case State.Zero:
        return this.afterInteger(c);
      case State.Dot:
        if (!isDigit(c)) this.fail(c, "after decimal point in numeric literal");
        this.state = State.Dot0;
        return Step.Copy;
      case State.Dot0:
        if (isDigit(c)) return Step.Copy;
        if (c === 0x65 || c === 0x45) {
          this.state = State.E;
          return Step.Copy;
        }
        return this.endValue(c);
      case State.E:
        if (c === 0x2b || c === 0x2d) {
          this.state = State.ESign;
          return Step.Copy;
        }
        return this.exponentDigit(c);
      case State.ESign:
        return this.exponentDigit(c);
      case State.E0:
        if (isDigit(c)) return Step.Copy;
        return this.endValue(c);
      case State.Literal: {
        const want = this.word.charCodeAt(this.at);
        if (c !== want) this.fail(c, `in literal ${this.word} (expecting '${this.word[this.at]}')`);
        if (++this.at === this.word.length) this.state = State.EndValue;
        return Step.Copy;
      }
    }
  }

  private exponentDigit(c: number): Step {
    if (!isDigit(c)) this.fail(c, "in exponent of numeric literal");
    this.state = State.E0;
    return Step.Copy;
  }

  private afterInteger(c: number): Step {
    if (c === 0x2e) {
      this.state = State.Dot;
      return Step.Copy;
    }
    if (c === 0x65 || c === 0x45) {
      this.state = State.E;
      return Step.Copy;
    }
    return this.endValue(c);
  }

  private beginValue(c: number): Step {
    if (isSpace(c)) return Step.Skip;
    switch (c) {
      case 0x7b: // {
        this.state = State.BeginStringOrEmpty;
        this.push(c, Parse.ObjectKey);
        return Step.Punct;
      case 0x5b: // [
        this.state = State.BeginValueOrEmpty;
        this.push(c, Parse.ArrayValue);
        return Step.Punct;
      case 0x22:
        this.state = State.InString;
        return Step.Punct;
      case 0x2d:
        this.state = State.Neg;
        return Step.Punct;
      case 0x30:
        this.state = State.Zero;
        return Step.Punct;
      case 0x74: return this.beginLiteralWord("true");
      case 0x66: return this.beginLiteralWord("false");
      case 0x6e: return this.beginLiteralWord("null");
    }
    if (c >= 0x31 && c <= 0x39) {
      this.state = State.One;
      return Step.Punct;
    }
    this.fail(c, "looking for beginning of value");
  }

  private beginString(c: number): Step {
    if (isSpace(c)) return Step.Skip;
    if (c !== 0x22) this.fail(c, "looking for beginning of object key string");
    this.state = State.InString;
    return Step.Punct;
  }

  private endValue(c: number): Step {
    const n = this.stack.length;
    if (n === 0) {
      this.state = State.EndTop;
      this.endTop = true;
      return this.step(c);
    }
    this.state = State.EndValue;
    if (isSpace(c)) return Step.Skip;
    switch (this.stack[n - 1]) {
      case Parse.ObjectKey:
        if (c !== 0x3a) this.fail(c, "after object key");
        this.stack[n - 1] = Parse.ObjectValue;
        this.state = State.BeginValue;
        return Step.Punct;
      case Parse.ObjectValue:
        if (c === 0x2c) {
          this.stack[n - 1] = Parse.ObjectKey;
          this.state = State.BeginString;
          return Step.Punct;
        }
        if (c !== 0x7d) this.fail(c, "after object key:value pair");
        this.stack.pop();
        return Step.Punct;
      default:
        if (c === 0x2c) {
          this.state = State.BeginValue;
          return Step.Punct;
        }
        if (c !== 0x5d) this.fail(c, "after array element");
        this.stack.pop();
        return Step.Punct;
    }
  }

  /** At the end of input: is the text one complete value? */
  finish(): void {
    if (this.endTop) return;
    this.step(0x20);
    if (!this.endTop) throw new JSONSyntaxError("unexpected end of JSON input");
  }
}

/**
 * Re-prints JSON text with one element per line, each line starting with `prefix` and one `indent` per level of
 * nesting; empty arrays and objects stay `[]` and `{}`. Throws an Error with Go's scanner message when the text is
 * not JSON.
 */
export function indentJSON(text: string, prefix: string, indent: string): string {
  const src = bytesOf(text);
  const scanner = new Scanner();
  const out: number[] = [];
  const newline = bytesOf("\n" + prefix);
  const indentBytes = bytesOf(indent);
  let depth = 0;
  let needIndent = false;
  const breakLine = (): void => {
    for (const b of newline) out.push(b);
    for (let d = 0; d < depth; d++) for (const b of indentBytes) out.push(b);
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    const step = scanner.step(c);
    if (step === Step.Skip) continue;
    const closes = c === 0x7d || c === 0x5d;
    if (needIndent && !(step === Step.Punct && closes)) {
      needIndent = false;
      depth++;
      breakLine();
    }
    if (step === Step.Copy) {
      out.push(c);
      continue;
    }
    if (scanner.endTop) {
      out.push(c); // the last byte of the value, or trailing space
      continue;
    }
    switch (c) {
      case 0x7b:
      case 0x5b:
        needIndent = true; // deferred, so that empty containers print as {} and []
        out.push(c);
        break;
      case 0x2c:
        out.push(c);
        breakLine();
        break;
      case 0x3a:
        out.push(c, 0x20);
        break;
      case 0x7d:
      case 0x5d:
        if (needIndent) needIndent = false;
        else {
          depth--;
          breakLine();
        }
        out.push(c);
        break;
      default:
        out.push(c);
    }
  }
  scanner.finish();
  return decodeUTF8(Uint8Array.from(out));
}

export { JSONSyntaxError };
