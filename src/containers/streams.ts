/**
 * Small stream helpers for Engine API answers: a line splitter (an event or a JSON line may be split across
 * chunks, or several may share one chunk), a bounded tail of lines, and the demultiplexer for container logs.
 */

/** Calls `onLine` for each complete line pushed through it. */
export class LineSplitter {
  private rest = "";
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const text = this.rest + chunk;
    let start = 0;
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", start)) {
      const line = text.slice(start, i).replace(/\r$/, "");
      start = i + 1;
      if (line !== "") this.onLine(line);
    }
    this.rest = text.slice(start);
  }

  flush(): void {
    if (this.rest !== "") this.onLine(this.rest);
    this.rest = "";
  }
}

/** The last `max` lines pushed. */
export class TailBuffer {
  private readonly lines: string[] = [];
  constructor(private readonly max: number) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }

  text(): string {
    return this.lines.join("\n");
  }
}

/**
 * Container logs without a TTY come in frames: one byte of stream id (0 stdin, 1 stdout, 2 stderr), three zero
 * bytes, a big-endian 32-bit size, then the payload. Podman sometimes answers unframed; pass that through.
 */
export function demuxLogs(buf: Buffer): string {
  const parts: string[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const stream = buf[i]!;
    if (stream > 2 || buf[i + 1] !== 0 || buf[i + 2] !== 0 || buf[i + 3] !== 0) return buf.toString();
    const size = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + size).toString());
    i += 8 + size;
  }
  if (i < buf.length && parts.length === 0) return buf.toString();
  return parts.join("");
}
