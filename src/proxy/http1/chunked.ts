/**
 * The chunked transfer coding (RFC 9112 §7.1), decoded and written anew: the proxy never passes chunk lines on as
 * they came, so a size line or extension that one parser reads differently from the next cannot smuggle a message.
 * Data bytes are passed as views, framing is rebuilt (lower-case hex sizes, no extensions). A byte-level state
 * machine, so a body split anywhere across reads is followed exactly.
 *
 * Strict mode (request bodies): every line ends with CRLF, trailer fields are validated and then dropped.
 * Lenient mode (answers from apps): a bare LF ends a line, as nginx and Go accept; trailer fields are kept.
 */
import { REQUEST_VALUE, TCHAR } from "./chars.ts";

const enum S {
  Size,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  TrailerLine,
  TrailerLf,
  EndLf,
  Done,
}

/** Chunk sizes above this are refused: no real body has them, and larger ones lose precision. */
const MAX_CHUNK = 2 ** 48;
/** Longest chunk-size line with its extensions, and longest trailer section. */
const MAX_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;

const CRLF = Buffer.from("\r\n");
const LAST_CHUNK = Buffer.from("0\r\n\r\n");
const LAST_CHUNK_OPEN = Buffer.from("0\r\n");

export class ChunkedDecoder {
  private s = S.Size;
  private size = 0;
  private digits = 0;
  private lineLength = 0;
  private inExtension = false;
  private trailerText = "";
  /** Why decode returned -2. */
  error = "";

  constructor(
    private readonly strict: boolean,
    /** Write the body re-framed as chunked (true), or the bare data (false: for an HTTP/1.0 client). */
    private readonly reencode: boolean,
  ) {}

  reset(): void {
    this.s = S.Size;
    this.size = 0;
    this.digits = 0;
    this.lineLength = 0;
    this.trailerText = "";
    this.error = "";
  }

  get done(): boolean {
    return this.s === S.Done;
  }

  /**
   * Decode buf[from..], pushing output pieces (views of buf for data: copy them before the read buffer is reused)
   * onto `out`. Returns the offset just past the body's end when it ends in buf, -1 when all of buf was consumed
   * and more is needed, -2 when the framing is invalid (see `error`).
   */
  decode(buf: Uint8Array, from: number, out: Uint8Array[]): number {
    let i = from;
    const n = buf.length;
    while (i < n) {
      switch (this.s) {
        case S.Size: {
          const c = buf[i]!;
          const v = hexValue(c);
          if (v >= 0) {
            this.size = this.size * 16 + v;
            if (++this.digits > 12 || this.size > MAX_CHUNK) return this.fail("chunk size too large");
            i++;
            break;
          }
          if (this.digits === 0) return this.fail("invalid chunk size");
          this.lineLength = this.digits;
          this.inExtension = false;
          this.s = S.Ext;
          break;
        }
        case S.Ext: {
          // Extensions (ignored and not passed on) up to the line end.
          const c = buf[i]!;
          if (c === 13) {
            this.s = S.SizeLf;
            i++;
          } else if (c === 10) {
            if (this.strict) return this.fail("bare LF in a chunk line");
            i++;
            this.sizeLineDone(out);
          } else {
            if (this.strict) {
              // After the size: ";" and an extension, or whitespace up to the line end; nothing else.
              if (REQUEST_VALUE[c] !== 1) return this.fail("invalid character in a chunk extension");
              if (!this.inExtension) {
                if (c === 59 && this.lineLength === this.digits) this.inExtension = true;
                else if (c !== 32 && c !== 9) return this.fail("invalid chunk size line");
              }
            }
            if (++this.lineLength > MAX_LINE) return this.fail("chunk line too long");
            i++;
          }
          break;
        }
        case S.SizeLf: {
          if (buf[i] !== 10) return this.fail("bare CR in a chunk line");
          i++;
          this.sizeLineDone(out);
          break;
        }
        case S.Data: {
          const take = Math.min(this.size, n - i);
          out.push(buf.subarray(i, i + take));
          i += take;
          this.size -= take;
          if (this.size === 0) {
            if (this.reencode) out.push(CRLF);
            this.s = S.DataCr;
          }
          break;
        }
        case S.DataCr: {
          const c = buf[i]!;
          if (c === 13) {
            this.s = S.DataLf;
            i++;
          } else if (c === 10 && !this.strict) {
            this.s = S.Size;
            i++;
          } else {
            return this.fail("chunk data not followed by CRLF");
          }
          break;
        }
        case S.DataLf: {
          if (buf[i] !== 10) return this.fail("chunk data not followed by CRLF");
          i++;
          this.s = S.Size;
          break;
        }
        case S.TrailerStart: {
          const c = buf[i]!;
          if (c === 13) {
            this.s = S.EndLf;
            i++;
          } else if (c === 10 && !this.strict) {
            i++;
            return this.finish(out, i);
          } else {
            this.lineLength = 0;
            this.s = S.TrailerLine;
          }
          break;
        }
        case S.TrailerLine: {
          const lf = buf.indexOf(10, i);
          const end = lf < 0 ? n : lf + 1;
          const text = Buffer.from(buf.buffer, buf.byteOffset + i, end - i).toString("latin1");
          this.trailerText += text;
          if (this.trailerText.length > MAX_TRAILERS) return this.fail("trailer section too large");
          if (lf < 0) return -1;
          i = lf + 1;
          const problem = this.checkTrailerLine();
          if (problem !== "") return this.fail(problem);
          this.s = S.TrailerStart;
          break;
        }
        case S.EndLf: {
          if (buf[i] !== 10) return this.fail("bare CR at the end of a chunked body");
          i++;
          return this.finish(out, i);
        }
        case S.Done:
          return i;
      }
    }
    return this.s === S.Done ? i : -1;
  }

  private sizeLineDone(out: Uint8Array[]): void {
    this.digits = 0;
    if (this.size === 0) {
      this.s = S.TrailerStart;
      this.trailerText = "";
      return;
    }
    if (this.reencode) out.push(Buffer.from(`${this.size.toString(16)}\r\n`, "latin1"));
    this.s = S.Data;
  }

  /** Validate the trailer line just read (in trailerText, ending with its LF) and keep it in lenient mode. */
  private checkTrailerLine(): string {
    const all = this.trailerText;
    const start = all.lastIndexOf("\n", all.length - 2) + 1;
    let end = all.length - 1;
    if (all.charCodeAt(end - 1) === 13) end--;
    else if (this.strict) return "bare LF in a trailer field";
    const colon = all.indexOf(":", start);
    if (colon <= start || colon > end) return "malformed trailer field";
    for (let k = start; k < colon; k++) if (TCHAR[all.charCodeAt(k)] !== 1) return "malformed trailer field name";
    for (let k = colon + 1; k < end; k++) {
      const c = all.charCodeAt(k);
      if (REQUEST_VALUE[c] !== 1) return "invalid character in a trailer field";
    }
    return "";
  }

  private finish(out: Uint8Array[], at: number): number {
    this.s = S.Done;
    if (this.reencode) {
      if (!this.strict && this.trailerText !== "") {
        // Kept trailers, each line re-terminated with CRLF.
        const lines = this.trailerText.split("\n").filter((l) => l !== "" && l !== "\r");
        out.push(LAST_CHUNK_OPEN, Buffer.from(`${lines.map((l) => l.replace(/\r$/, "")).join("\r\n")}\r\n\r\n`, "latin1"));
      } else {
        out.push(LAST_CHUNK);
      }
    }
    return at;
  }

  private fail(reason: string): number {
    this.error = reason;
    return -2;
  }
}

/** Frame one piece of data as a chunk (for bodies whose length the writer does not know in advance). */
export function chunk(data: Uint8Array): Uint8Array[] {
  return [Buffer.from(`${data.length.toString(16)}\r\n`, "latin1"), data, CRLF];
}

export { LAST_CHUNK };

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}
