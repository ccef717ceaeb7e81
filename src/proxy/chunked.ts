/**
 * Finds where a chunked message body ends without touching its bytes: the fast front end passes chunked bodies
 * through as they are and only needs to know when one is over (to reuse the connection or frame the next request).
 * A byte-level state machine, so that a body split anywhere across packets is followed exactly.
 */

const enum S {
  Size,
  SizeExt,
  Data,
  DataEnd,
  TrailerStart,
  TrailerLine,
  TrailerCr,
  Done,
}

/** Chunk sizes above this are refused: they cannot be real and would lose precision. */
const MAX_CHUNK = 2 ** 40;

export class ChunkedScanner {
  private s = S.Size;
  private size = 0;
  private digits = 0;

  reset(): void {
    this.s = S.Size;
    this.size = 0;
    this.digits = 0;
  }

  /**
   * Scan `buf` from `from`: returns the offset just past the end of the body when it ends in this buffer, -1
   * when all of it belongs to the body and more is needed, -2 when the framing is invalid.
   */
  scan(buf: Uint8Array, from: number): number {
    let i = from;
    const n = buf.length;
    while (i < n) {
      switch (this.s) {
        case S.Size: {
          const c = buf[i]!;
          const v = hexValue(c);
          if (v >= 0) {
            this.size = this.size * 16 + v;
            this.digits++;
            if (this.size > MAX_CHUNK) return -2;
            i++;
            break;
          }
          if (this.digits === 0) return -2;
          this.s = S.SizeExt;
          break;
        }
        case S.SizeExt: {
          // Extensions and the CR up to the LF are skipped.
          const lf = buf.indexOf(10, i);
          if (lf < 0) return -1;
          i = lf + 1;
          this.digits = 0;
          if (this.size === 0) {
            this.s = S.TrailerStart;
          } else {
            this.s = S.Data;
          }
          break;
        }
        case S.Data: {
          const take = Math.min(this.size, n - i);
          i += take;
          this.size -= take;
          if (this.size === 0) this.s = S.DataEnd;
          break;
        }
        case S.DataEnd: {
          const lf = buf.indexOf(10, i);
          if (lf < 0) return -1;
          i = lf + 1;
          this.s = S.Size;
          break;
        }
        case S.TrailerStart: {
          const c = buf[i++]!;
          if (c === 10) {
            this.s = S.Done;
            return i;
          }
          this.s = c === 13 ? S.TrailerCr : S.TrailerLine;
          break;
        }
        case S.TrailerCr: {
          const c = buf[i++]!;
          if (c === 10) {
            this.s = S.Done;
            return i;
          }
          this.s = S.TrailerLine;
          break;
        }
        case S.TrailerLine: {
          const lf = buf.indexOf(10, i);
          if (lf < 0) return -1;
          i = lf + 1;
          this.s = S.TrailerStart;
          break;
        }
        case S.Done:
          return i;
      }
    }
    return this.s === S.Done ? i : -1;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}
