/**
 * BuildKit progress from the Engine API's `/build?version=2`: the engine sends each progress update as a JSON line
 * `{"id":"moby.buildkit.trace","aux":"<base64>"}` whose payload is a protobuf `StatusResponse` (BuildKit's
 * control API). This module decodes the few fields that make a readable build log, in the shape `docker build
 * --progress=plain` prints:
 *
 *   #3 [2/3] RUN pip install -r requirements.txt
 *   #3 0.412 Collecting flask
 *   #3 DONE 1.2s
 *
 * The wire format is small enough to read by hand (varints and length-delimited fields), so no protobuf library
 * is needed. Unknown fields are skipped, as protobuf requires, so newer engines that add fields still decode.
 *
 *   StatusResponse { repeated Vertex vertexes = 1; repeated VertexStatus statuses = 2; repeated VertexLog logs = 3; }
 *   Vertex         { string digest = 1; string name = 3; bool cached = 4; Timestamp started = 5;
 *                    Timestamp completed = 6; string error = 7; }
 *   VertexLog      { string vertex = 1; Timestamp timestamp = 2; int64 stream = 3; bytes msg = 4; }
 *   Timestamp      { int64 seconds = 1; int32 nanos = 2; }
 * (VertexStatus carries byte counts of pulls and context transfers; the log leaves them out, as plain mode does.)
 */

export interface BuildkitVertex {
  digest: string;
  name: string;
  cached: boolean;
  /** Seconds since the epoch (fractional), or 0 when not set. */
  started: number;
  completed: number;
  error: string;
}

export interface BuildkitLog {
  vertex: string;
  /** 1 stdout, 2 stderr. */
  stream: number;
  msg: Uint8Array;
  timestamp: number;
}

export interface BuildkitStatus {
  vertexes: BuildkitVertex[];
  logs: BuildkitLog[];
}

/** Thrown on bytes that are not a well-formed protobuf message (a truncated or foreign payload). */
export class ProtobufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtobufError";
  }
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** A cursor over one protobuf message's bytes. */
class ProtoReader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** A varint as a JS number; values above 2^53 lose precision, which no field read here reaches. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new ProtobufError("truncated varint");
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new ProtobufError("varint longer than 10 bytes");
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wire: number } {
    const t = this.varint();
    return { field: Math.floor(t / 8), wire: t & 7 };
  }

  bytes(): Uint8Array {
    const len = this.varint();
    if (this.pos + len > this.buf.length) throw new ProtobufError("length-delimited field runs past the message");
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    return DECODER.decode(this.bytes());
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LEN:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        throw new ProtobufError(`unsupported wire type ${wire}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.buf.length) throw new ProtobufError("fixed-size field runs past the message");
    this.pos += n;
  }
}

const DECODER = new TextDecoder();

/** Decode one base64 `moby.buildkit.trace` payload. */
export function decodeStatusResponse(base64: string): BuildkitStatus {
  const r = new ProtoReader(Buffer.from(base64, "base64"));
  const out: BuildkitStatus = { vertexes: [], logs: [] };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_LEN) out.vertexes.push(decodeVertex(r.bytes()));
    else if (field === 3 && wire === WIRE_LEN) out.logs.push(decodeLog(r.bytes()));
    else r.skip(wire);
  }
  return out;
}

function decodeVertex(buf: Uint8Array): BuildkitVertex {
  const r = new ProtoReader(buf);
  const v: BuildkitVertex = { digest: "", name: "", cached: false, started: 0, completed: 0, error: "" };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_LEN) v.digest = r.string();
    else if (field === 3 && wire === WIRE_LEN) v.name = r.string();
    else if (field === 4 && wire === WIRE_VARINT) v.cached = r.varint() !== 0;
    else if (field === 5 && wire === WIRE_LEN) v.started = decodeTimestamp(r.bytes());
    else if (field === 6 && wire === WIRE_LEN) v.completed = decodeTimestamp(r.bytes());
    else if (field === 7 && wire === WIRE_LEN) v.error = r.string();
    else r.skip(wire);
  }
  return v;
}

function decodeLog(buf: Uint8Array): BuildkitLog {
  const r = new ProtoReader(buf);
  const log: BuildkitLog = { vertex: "", stream: 1, msg: new Uint8Array(0), timestamp: 0 };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_LEN) log.vertex = r.string();
    else if (field === 2 && wire === WIRE_LEN) log.timestamp = decodeTimestamp(r.bytes());
    else if (field === 3 && wire === WIRE_VARINT) log.stream = r.varint();
    else if (field === 4 && wire === WIRE_LEN) log.msg = r.bytes();
    else r.skip(wire);
  }
  return log;
}

function decodeTimestamp(buf: Uint8Array): number {
  const r = new ProtoReader(buf);
  let seconds = 0;
  let nanos = 0;
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_VARINT) seconds = r.varint();
    else if (field === 2 && wire === WIRE_VARINT) nanos = r.varint();
    else r.skip(wire);
  }
  return seconds + nanos / 1e9;
}

/**
 * Turns a sequence of StatusResponses into plain-progress lines. A vertex is announced once when it starts, its
 * log output follows line by line (split across messages as it may be), and it ends with DONE, CACHED or ERROR.
 * Vertexes are numbered in the order they first appear, as BuildKit's own plain printer does.
 */
export class BuildkitProgress {
  private readonly numbers = new Map<string, number>();
  private readonly announced = new Set<string>();
  private readonly finished = new Set<string>();
  private readonly started = new Map<string, number>();
  /** A log line's beginning that arrived without its newline, per vertex. */
  private readonly partial = new Map<string, string>();
  /** The first vertex error, the step that failed (the engine's own error line names only the command). */
  failedStep = "";

  constructor(private readonly onLine: (line: string) => void) {}

  push(status: BuildkitStatus): void {
    for (const v of status.vertexes) this.vertex(v);
    for (const log of status.logs) this.log(log);
  }

  /** Emit what is left of unterminated log lines. */
  flush(): void {
    for (const [digest, rest] of this.partial) if (rest !== "") this.onLine(`#${this.number(digest)} ${rest}`);
    this.partial.clear();
  }

  private number(digest: string): number {
    let n = this.numbers.get(digest);
    if (n === undefined) {
      n = this.numbers.size + 1;
      this.numbers.set(digest, n);
    }
    return n;
  }

  private vertex(v: BuildkitVertex): void {
    const n = this.number(v.digest);
    if (!this.announced.has(v.digest) && (v.started || v.cached || v.completed || v.error)) {
      this.announced.add(v.digest);
      this.onLine(`#${n} ${v.name}`);
    }
    if (v.started && !this.started.has(v.digest)) this.started.set(v.digest, v.started);
    if (this.finished.has(v.digest)) return;
    if (v.error) {
      this.finished.add(v.digest);
      this.flushVertex(v.digest);
      this.onLine(`#${n} ERROR: ${v.error}`);
      if (!this.failedStep) this.failedStep = v.name;
    } else if (v.cached) {
      this.finished.add(v.digest);
      this.onLine(`#${n} CACHED`);
    } else if (v.completed) {
      this.finished.add(v.digest);
      this.flushVertex(v.digest);
      const began = this.started.get(v.digest) ?? v.completed;
      this.onLine(`#${n} DONE ${(Math.max(0, v.completed - began)).toFixed(1)}s`);
    }
  }

  private log(log: BuildkitLog): void {
    const n = this.number(log.vertex);
    const text = (this.partial.get(log.vertex) ?? "") + DECODER.decode(log.msg);
    const lines = text.split("\n");
    this.partial.set(log.vertex, lines.pop()!);
    for (const line of lines) {
      const clean = line.replace(/\r$/, "");
      if (clean !== "") this.onLine(`#${n} ${clean}`);
    }
  }

  private flushVertex(digest: string): void {
    const rest = this.partial.get(digest);
    if (rest) this.onLine(`#${this.number(digest)} ${rest}`);
    this.partial.delete(digest);
  }
}
