import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { accessLine, FileAccessLog, StreamAccessLog } from "../../src/server/access-log.ts";
import type { AccessEntry } from "../../src/proxy/index.ts";

const dir = mkdtempSync(join(tmpdir(), "clace-lite-access-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entry = (n: number): AccessEntry => ({
  time: new Date(Date.UTC(2026, 10, 30, 12, 0, n)),
  client: "127.0.0.1",
  method: "GET",
  target: `/app/page${n}?q=1`,
  app: "/app",
  status: 200,
  durationMs: 1.234,
  bytesIn: 0,
  bytesOut: 321,
});

test("a line in each format parses back to the entry", () => {
  const json = JSON.parse(accessLine(entry(1), "json"));
  expect(json).toEqual({ time: "2026-11-30T12:00:01.000Z", client: "127.0.0.1", app: "/app", method: "GET", target: "/app/page1?q=1", status: 200, duration_ms: 1.23, bytes_in: 0, bytes_out: 321 });
  const text = accessLine(entry(2), "text");
  expect(text).toBe('2026-11-30T12:00:02.000Z 127.0.0.1 /app "GET /app/page2?q=1" 200 1.23ms 0 321\n');
  const m = /^(\S+) (\S+) (\S+) "(\S+) (\S+)" (\d+) ([\d.]+)ms (\d+) (\d+)\n$/.exec(text);
  expect(m?.slice(1)).toEqual(["2026-11-30T12:00:02.000Z", "127.0.0.1", "/app", "GET", "/app/page2?q=1", "200", "1.23", "0", "321"]);
});

test("a stream log writes buffered lines in order on flush", () => {
  let out = "";
  const log = new StreamAccessLog({ write: (t: string) => (out += t) }, "text");
  for (let i = 0; i < 3; i++) log.add(entry(i));
  expect(out).toBe("");
  log.flush();
  expect(out.trim().split("\n").map((l) => l.split(" ")[3])).toEqual(['"GET', '"GET', '"GET']);
  expect(out.split("\n").filter(Boolean).length).toBe(3);
});

test("a file log rotates by size and keeps the newest files, mode 0600", () => {
  const path = join(dir, "logs", "access.log");
  const log = new FileAccessLog(path, "json", 2_000, 2);
  for (let i = 0; i < 60; i++) {
    log.add(entry(i % 60));
    log.flush();
  }
  log.close();
  expect(existsSync(`${path}.1`)).toBe(true);
  expect(existsSync(`${path}.2`)).toBe(true);
  expect(existsSync(`${path}.3`)).toBe(false);
  for (const p of [path, `${path}.1`, `${path}.2`]) expect(statSync(p).size).toBeLessThanOrEqual(2_000);
  expect(statSync(path).mode & 0o777).toBe(0o600);
  const newest = readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l).target);
  expect(newest.at(-1)).toBe("/app/page59?q=1");
});
