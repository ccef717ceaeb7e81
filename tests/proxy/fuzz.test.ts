/**
 * Differential fuzz of the front door against h11 (a strict HTTP/1.1 parser, Debian's python3-h11). Seeded and
 * bounded: a few thousand requests mutated at random (CR, LF, NUL, spaces and tabs inserted, framing fields
 * duplicated and reordered, chunk lines and lengths altered) are sent to the proxy, and what the app behind it
 * receives is parsed by h11 as well. For every case, each complete request the app got must be one h11 reads from
 * the client's bytes, in order, with the same method, target, end-to-end fields and body: the proxy may refuse
 * more than h11 does, never less, and never pass on a request the client's bytes do not mean.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { AppTable, createProxyServer, FixedUpstream, type ProxyServer } from "../../src/proxy/index.ts";
import { prng } from "../fixtures/prng.ts";
import { route } from "./helpers.ts";

const CASES = Number(process.env.FUZZ_CASES ?? 2400);
const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const LANES = 4;
/** Debian's interpreter, where python3-h11 is installed (a pyenv python3 on PATH would not have it). */
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

/** One proxy and one recording app per lane; cases run one at a time in each lane. */
interface Lane {
  proxy: ProxyServer;
  app: TCPSocketListener<{ caseId: number; bytes: Buffer[] }>;
  current: number;
}

/** Bytes each upstream connection received, by the case that was running when its first byte arrived. */
const upstreamBytes = new Map<number, Buffer[]>();
const lanes: Lane[] = [];

function recordingApp(lane: { current: number }) {
  return Bun.listen<{ caseId: number; bytes: Buffer[]; buf: Buffer }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { caseId: -1, bytes: [], buf: Buffer.alloc(0) };
      },
      data(s, data) {
        if (s.data.caseId < 0) {
          s.data.caseId = lane.current;
          const list = upstreamBytes.get(lane.current) ?? [];
          list.push(Buffer.alloc(0));
          upstreamBytes.set(lane.current, list);
          s.data.bytes = list;
        }
        const list = s.data.bytes;
        list[list.length - 1] = Buffer.concat([list[list.length - 1]!, data]);
        // One request per connection: answer once the head is in, and close (the body, if any, is recorded).
        s.data.buf = Buffer.concat([s.data.buf, data]);
        if (s.data.buf.includes("\r\n\r\n")) {
          s.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
          setTimeout(() => s.end(), 20);
        }
      },
    },
  }) as unknown as Lane["app"];
}

const H = "Host: localhost\r\n";
const BASES = [
  `GET /a?x=1 HTTP/1.1\r\n${H}Accept: */*\r\nX-Test: one\r\n\r\n`,
  `POST /p HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello`,
  `POST /c HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\n\r\n`,
  `GET /a HTTP/1.1\r\n${H}\r\nPOST /p HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello`,
  `POST /p HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\n${H}\r\n`,
  `GET /k HTTP/1.1\r\n${H}Connection: keep-alive, X-Drop\r\nX-Drop: 1\r\nX-Keep: 2\r\n\r\n`,
  `GET /old HTTP/1.0\r\n${H}\r\n`,
  `GET /d HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabcGET /e HTTP/1.1\r\n${H}\r\n`,
  `POST /t HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-T: 1\r\n\r\nGET /f HTTP/1.1\r\n${H}\r\n`,
];
const INSERTS = ["\r", "\n", "\0", " ", "\t", "\r\n", "\n\n", ":", ",", "\x7f", "\x80", "\x0b", "a", "0", "-", ";", '"', "\r\n\r\n", "\r\r\n"];
const FRAMING = [
  "Content-Length: 0",
  "Content-Length: 3",
  "Content-Length: 5, 5",
  "Content-Length: 5",
  "Content-Length: 5, 6",
  "Transfer-Encoding: chunked",
  "Transfer-Encoding: identity",
  "Transfer-Encoding: chunked, chunked",
  "Transfer-Encoding: gzip, chunked",
  "Host: other",
  "Transfer-Encoding : chunked",
  "Content-Length: 1e2",
  " Transfer-Encoding: chunked",
  "Transfer-Encoding: \tchunked",
  "Connection: close",
  "Expect: 100-continue",
];

function mutate(input: string, rnd: () => number): string {
  let s = input;
  const ops = 1 + Math.floor(rnd() * 3);
  const at = () => Math.floor(rnd() * (s.length + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  for (let k = 0; k < ops; k++) {
    const lines = s.split("\r\n");
    switch (Math.floor(rnd() * 8)) {
      case 0: {
        const i = at();
        s = s.slice(0, i) + pick(INSERTS) + s.slice(i);
        break;
      }
      case 1: {
        const i = at();
        s = s.slice(0, i) + s.slice(i + 1 + Math.floor(rnd() * 3));
        break;
      }
      case 2: {
        // Duplicate a line.
        const i = 1 + Math.floor(rnd() * Math.max(1, lines.length - 2));
        lines.splice(i, 0, lines[i] ?? "");
        s = lines.join("\r\n");
        break;
      }
      case 3: {
        // Swap two adjacent lines.
        const i = 1 + Math.floor(rnd() * Math.max(1, lines.length - 3));
        if (i + 1 < lines.length) [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
        s = lines.join("\r\n");
        break;
      }
      case 4: {
        // One CRLF becomes a bare LF.
        const all = [...s.matchAll(/\r\n/g)];
        if (all.length > 0) {
          const m = pick(all);
          s = s.slice(0, m.index) + "\n" + s.slice(m.index! + 2);
        }
        break;
      }
      case 5: {
        // A framing field after the request line.
        const nl = s.indexOf("\r\n");
        if (nl > 0) s = `${s.slice(0, nl + 2)}${pick(FRAMING)}\r\n${s.slice(nl + 2)}`;
        break;
      }
      case 6: {
        // Alter a number: a chunk size or a length.
        const nums = [...s.matchAll(/\b[0-9a-f]+\b/gi)];
        if (nums.length > 0) {
          const m = pick(nums);
          const v = pick(["0", "1", "5", "ff", "FFFFFFFFFFFFFFFF", "-1", "3 ", "0x5", "99"]);
          s = s.slice(0, m.index) + v + s.slice(m.index! + m[0].length);
        }
        break;
      }
      default: {
        // Case of a field name.
        const i = 1 + Math.floor(rnd() * Math.max(1, lines.length - 2));
        const line = lines[i] ?? "";
        lines[i] = rnd() < 0.5 ? line.toUpperCase() : line.toLowerCase();
        s = lines.join("\r\n");
      }
    }
  }
  return s;
}

/** Send a case; resolve when the proxy closes or has been quiet for a moment. */
function send(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    let sock: Socket<unknown> | undefined;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock?.end();
      resolve();
    };
    const rearm = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, 40);
    };
    void Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          sock = s;
          s.write(bytes);
          rearm();
        },
        data: rearm,
        close: finish,
        error: finish,
      },
    });
  });
}

interface Parsed {
  requests: { method: string; target: string; headers: [string, string][]; body: string }[];
  error: string | null;
}

async function h11(inputs: Buffer[]): Promise<Parsed[]> {
  const proc = Bun.spawn([PYTHON, join(import.meta.dir, "reference/h11_parse.py")], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  proc.stdin.write(JSON.stringify(inputs.map((b) => b.toString("base64"))));
  await proc.stdin.end();
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`h11 reference failed (is python3-h11 installed? apt-get install python3-h11): ${err}`);
  return JSON.parse(out) as Parsed[];
}

const HOP = new Set(["connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "content-length", "proxy-connection"]);

/** A request as the app should see it: end-to-end fields only (framing, hop-by-hop and X-Forwarded-* aside). */
function endToEnd(r: Parsed["requests"][number], clientHost?: string): string {
  const named = new Set(
    r.headers
      .filter(([n]) => n === "connection")
      .flatMap(([, v]) => v.split(",").map((t) => t.trim().toLowerCase()))
      .filter((t) => t !== "" && t !== "close" && t !== "keep-alive" && t !== "upgrade"),
  );
  const fields = r.headers.filter(([n]) => !HOP.has(n) && n !== "host" && !n.startsWith("proxy-") && !n.startsWith("x-forwarded-") && !named.has(n));
  // The route preserves Host; `clientHost` "" marks a request whose Host is the proxy's choice.
  const host = clientHost ?? r.headers.find(([n]) => n === "host")?.[1];
  return JSON.stringify({ method: r.method, target: r.target, host, fields, body: r.body });
}

beforeAll(() => {
  for (let i = 0; i < LANES; i++) {
    const lane = { current: -1 } as Lane;
    lane.app = recordingApp(lane);
    const apps = new AppTable();
    apps.add({ path: "/", routes: [route({ preserveHost: true })], upstream: new FixedUpstream(`http://127.0.0.1:${lane.app.port}`) });
    lane.proxy = createProxyServer({ port: 0, apps });
    lanes.push(lane);
  }
});

afterAll(async () => {
  for (const lane of lanes) {
    await lane.proxy.stop(true);
    lane.app.stop(true);
  }
});

test(`${CASES} mutated requests: the app gets only requests h11 reads from the client's bytes (seed ${SEED})`, async () => {
  const rnd = prng(SEED);
  const cases = Array.from({ length: CASES }, () => Buffer.from(mutate(BASES[Math.floor(rnd() * BASES.length)]!, rnd), "latin1"));
  if (process.env.FUZZ_PRINT) for (const c of cases.slice(0, Number(process.env.FUZZ_PRINT))) console.log(JSON.stringify(c.toString("latin1")));
  await Promise.all(
    lanes.map(async (lane, l) => {
      const port = Number(new URL(lane.proxy.url).port);
      for (let i = l; i < cases.length; i += LANES) {
        lane.current = i;
        await send(port, cases[i]!);
        // The case is over once the proxy has seen the close (after everything sent before it); then let the
        // app read what reached it, so that nothing of this case is taken for the next one's.
        for (let t = 0; t < 400 && lane.proxy.connections > 0; t++) await Bun.sleep(5);
        await Bun.sleep(2);
      }
    }),
  );
  await Bun.sleep(200);

  const ids = [...upstreamBytes.keys()].sort((a, b) => a - b);
  const upstreamInputs = ids.flatMap((id) => upstreamBytes.get(id)!);
  const [client, upstream] = await Promise.all([h11(cases), h11(upstreamInputs)]);
  let k = 0;
  const received = new Map<number, Parsed["requests"]>();
  for (const id of ids) {
    const list: Parsed["requests"] = [];
    for (let j = 0; j < upstreamBytes.get(id)!.length; j++) {
      const parsed = upstream[k++]!;
      // Every connection the proxy opened carries well-formed HTTP.
      if (parsed.error !== null) throw new Error(`case ${id}: the app received bytes h11 refuses (${parsed.error}): ${JSON.stringify(upstreamBytes.get(id)![j]!.toString("latin1"))}`);
      list.push(...parsed.requests);
    }
    received.set(id, list);
  }

  let forwarded = 0;
  let refusedByBoth = 0;
  for (let i = 0; i < cases.length; i++) {
    const meantRequests = client[i]!.requests;
    // An empty or missing Host is replaced by the app's: compare Host only where the client gave one.
    const hostOf = (j: number) => (meantRequests[j]?.headers.find(([n]) => n === "host")?.[1] ? undefined : "");
    const meant = meantRequests.map((r, j) => endToEnd(r, hostOf(j)));
    const got = (received.get(i) ?? []).map((r, j) => endToEnd(r, hostOf(j)));
    if (got.length > 0) forwarded++;
    else if (client[i]!.error !== null) refusedByBoth++;
    const context = `case ${i}: ${JSON.stringify(cases[i]!.toString("latin1"))}\nh11: ${JSON.stringify(client[i])}`;
    // Sent upstream in order and each one meant by the client's bytes.
    expect(got.length <= meant.length ? "" : `${context}\nmore requests reached the app than the client sent`).toBe("");
    for (let j = 0; j < got.length; j++) expect(got[j], context).toBe(meant[j]!);
  }
  console.log(`fuzz: ${cases.length} cases, ${forwarded} forwarded at least one request, ${refusedByBoth} refused by both`);
  // The mutations must leave enough valid traffic for the comparison to mean something.
  expect(forwarded).toBeGreaterThan(cases.length / 5);
}, 240_000);
