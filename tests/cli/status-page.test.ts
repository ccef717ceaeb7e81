/**
 * The status page in a real browser (Debian's chromium, driven headless by puppeteer-core), against a real
 * `server start` with two container apps: the list renders both, a cold start started by a request turns an app
 * "running" on the open page without a reload, and the detail view shows the container's log line. Also the
 * metrics (through promtool's eyes, in tests/proxy) and the access log file of the server.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";
import type { ContainerEngine } from "../../src/containers/index.ts";
import { testEngine } from "../fixtures/engine.ts";
import { BUSYBOX_IMAGE, busyboxImage } from "../fixtures/images.ts";
import { appFolder, CliProcess, runCli, tempHome } from "./helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
let engine: ContainerEngine;
let home: string;
let server: CliProcess;
let base: string;
let browser: Browser;
const shots = mkdtempSync(join(tmpdir(), "clace-lite-status-page-"));
const folders: string[] = [];
const env = () => ({ CL_HOME: home });

/** A busybox app that prints a marker line to its log, then serves /www. */
function markedApp(marker: string): string {
  const dir = appFolder({
    Containerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "sh", "-c", "echo ${marker}; exec /bin/busybox httpd -f -p 8080 -h /www"]\n`,
    "www/index.html": `hello from ${marker}\n`,
  });
  folders.push(dir);
  return dir;
}

async function cli(...args: string[]) {
  const result = await runCli(args, env());
  if (result.code !== 0) throw new Error(`clace-lite ${args.join(" ")} exited ${result.code}\n${result.stderr}${result.stdout}`);
  return result;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (tests/fixtures/apt-packages.txt lists it)`);
  engine = await testEngine();
  await busyboxImage(engine);
  home = tempHome();
  server = new CliProcess(["server", "start", "--port", "0", "--https-port", "off"], env());
  const [, url] = await server.waitFor(/listening on (http:\/\/[\d.]+:\d+)\//);
  base = url!;
  await cli("app", "create", "--spec", "container", "--approve", markedApp("status-one-marker"), "/one");
  await cli("app", "create", "--spec", "container", "--approve", markedApp("status-two-marker"), "/two");
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", `--user-data-dir=${join(shots, "profile")}`],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await runCli(["app", "delete", "all"], env()).catch(() => {});
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

test("the list renders both apps; a cold start shows up live; the detail view has the container's log line", async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/_clace_lite/`);
  const names = await page.$$eval("tr[data-app]", (rows) => rows.map((r) => r.getAttribute("data-app")));
  expect(names.sort()).toEqual(["/one", "/two"]);
  const stateOf = (name: string) => page.$eval(`tr[data-app="${name}"] .state`, (e) => e.textContent);
  expect(await stateOf("/one")).toBe("stopped");

  // A request starts /one's container; the open page hears of it over its event stream.
  const res = await fetch(`${base}/one/`);
  expect(await res.text()).toBe("hello from status-one-marker\n");
  // Evaluated in the page (a string, so that this file needs no DOM types).
  await page.waitForFunction(`document.querySelector('tr[data-app="/one"] .state')?.textContent === "running"`, { timeout: 30_000 });
  expect(await stateOf("/two")).toBe("stopped");
  const shot = join(shots, "status-page.png");
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`status page screenshot: ${shot}`);

  await page.click('tr[data-app="/one"] td a');
  await page.waitForSelector("pre.logs");
  expect(await page.$eval("h1", (e) => e.textContent)).toBe("/one");
  expect(await page.$eval("pre.logs", (e) => e.textContent)).toContain("status-one-marker");
  await page.close();
}, 120_000);

test("the page works without JavaScript; app list counts requests; the access log has the requests", async () => {
  const page = await browser.newPage();
  await page.setJavaScriptEnabled(false);
  await page.goto(`${base}/_clace_lite/`);
  expect(await page.$$eval("tr[data-app]", (rows) => rows.length)).toBe(2);
  await page.close();

  for (let i = 0; i < 3; i++) await (await fetch(`${base}/two/?n=${i}`)).text();
  const listed = JSON.parse((await cli("app", "list", "--json")).stdout) as { location: string; requests: number; lastColdStartMs: number }[];
  const two = listed.find((a) => a.location === "/two")!;
  expect(two.requests).toBe(3);
  expect(two.lastColdStartMs).toBeGreaterThan(0);
  const table = (await cli("app", "list")).stdout;
  expect(table).toMatch(/^PATH\s+SPEC\s+STATE\s+REQUESTS\s+ERRORS\s+COLD START/m);

  const log = join(home, "logs", "access.log");
  let lines: string[] = [];
  for (let i = 0; i < 50 && lines.length < 3; i++) {
    await Bun.sleep(100);
    lines = existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((l) => l.includes('"GET /two/?n=')) : [];
  }
  expect(lines.length).toBe(3);
  expect(lines[0]).toMatch(/^\S+Z 127\.0\.0\.1 \/two "GET \/two\/\?n=0" 200 [\d.]+ms 0 \d+$/);
}, 120_000);
