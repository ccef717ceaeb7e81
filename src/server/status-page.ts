/**
 * The status page at /_clace_lite/: every app with its state, image and container, uptime, recent requests and
 * errors, last cold-start and build times and the reason when it failed; a detail view per app with its recent
 * log lines and resolved config; state changes pushed to open pages by server-sent events. Plain HTML and CSS:
 * the list is rendered by the server and works without JavaScript; a few lines of script only apply live updates.
 * Shown to clients trusted with internals (loopback by default), like the rest of /_clace_lite/.
 */
import { RESERVED_PREFIX, type OwnEndpoint } from "../proxy/index.ts";

export interface StatusRow {
  /** The app's location ("/myapp", "app.localhost:/"), its key on the page. */
  name: string;
  /** Where the app answers through the proxy. */
  url: string;
  spec: string;
  /** stopped, building, starting, running, failed, unapproved, error. */
  state: string;
  image: string;
  container: string;
  /** Seconds since the container became ready (0 when not running). */
  uptimeSecs: number;
  /** Answers and 5xx answers in the last minutes. */
  requests: number;
  errors: number;
  lastColdStartMs: number;
  lastBuildMs: number;
  reason: string;
}

export interface StatusDetail {
  row: StatusRow;
  /** The container's last log lines. */
  logs: string;
  /** The resolved app config, as shown by `clace-lite config`. */
  config: unknown;
}

/** Where the page's data comes from: the host. */
export interface StatusSource {
  rows(): Promise<StatusRow[]>;
  detail(name: string): Promise<StatusDetail | undefined>;
  /** Calls `listener` on every state change; returns the unsubscribe. */
  subscribe(listener: (change: { name: string; state: string; reason: string }) => void): () => void;
}

const HTML = { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" };
/** A comment line on the event stream this often, so that idle connections are seen alive by proxies. */
const HEARTBEAT_MS = 15_000;

export function statusEndpoints(source: StatusSource, publicStatus: boolean): Map<string, OwnEndpoint> {
  const guarded =
    (handler: (req: Request) => Response | Promise<Response>): OwnEndpoint =>
    (req, client) =>
      client.trusted || publicStatus ? handler(req) : new Response("403 Forbidden: the status page is shown only to clients on this machine\n", { status: 403 });
  return new Map<string, OwnEndpoint>([
    [`${RESERVED_PREFIX}/`, guarded(async () => new Response(listPage(await source.rows()), { headers: HTML }))],
    [
      `${RESERVED_PREFIX}/app`,
      guarded(async (req) => {
        const name = new URL(req.url).searchParams.get("name") ?? "";
        const detail = await source.detail(name);
        if (detail === undefined) return new Response(page("Not found", `<p>No app ${esc(name)}. <a href="${RESERVED_PREFIX}/">All apps</a></p>`), { status: 404, headers: HTML });
        return new Response(detailPage(detail), { headers: HTML });
      }),
    ],
    [`${RESERVED_PREFIX}/events`, guarded(() => eventStream(source))],
  ]);
}

/** State changes as server-sent events (`event: state`, JSON data), until the client goes away. */
function eventStream(source: StatusSource): Response {
  let unsubscribe = () => {};
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(": connected\n\n"));
      unsubscribe = source.subscribe((change) => controller.enqueue(encoder.encode(`event: state\ndata: ${JSON.stringify(change)}\n\n`)));
      heartbeat = setInterval(() => controller.enqueue(encoder.encode(": alive\n\n")), HEARTBEAT_MS);
    },
    cancel() {
      unsubscribe();
      clearInterval(heartbeat);
    },
  });
  return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-store" } });
}

function listPage(rows: StatusRow[]): string {
  const body = rows.length === 0
    ? "<p>No apps yet.</p>"
    : `<table><thead><tr><th>App</th><th>Spec</th><th>State</th><th>Image / container</th><th>Up</th><th>Requests (5 min)</th><th>Errors (5 min)</th><th>Last cold start</th><th>Last build</th><th>Reason</th></tr></thead><tbody>${rows.map(row).join("")}</tbody></table>`;
  return page("Apps", `${body}<script>${LIVE_SCRIPT}</script>`);
}

function row(r: StatusRow): string {
  return `<tr data-app="${esc(r.name)}"><td><a href="${RESERVED_PREFIX}/app?name=${encodeURIComponent(r.name)}">${esc(r.name)}</a> <a class="open" href="${esc(r.url)}">open</a></td><td>${esc(r.spec || "-")}</td><td class="state ${esc(r.state)}">${esc(r.state)}</td><td>${esc(r.image || "-")}<br><small>${esc(r.container || "-")}</small></td><td>${duration(r.uptimeSecs * 1000)}</td><td>${r.requests}</td><td>${r.errors}</td><td>${duration(r.lastColdStartMs)}</td><td>${duration(r.lastBuildMs)}</td><td class="reason">${esc(r.reason)}</td></tr>`;
}

function detailPage(d: StatusDetail): string {
  const r = d.row;
  const facts = [
    ["State", `<span class="state ${esc(r.state)}">${esc(r.state)}</span>`],
    ["Address", `<a href="${esc(r.url)}">${esc(r.url)}</a>`],
    ["Spec", esc(r.spec || "-")],
    ["Image", esc(r.image || "-")],
    ["Container", esc(r.container || "-")],
    ["Up", duration(r.uptimeSecs * 1000)],
    ["Requests / errors (5 min)", `${r.requests} / ${r.errors}`],
    ["Last cold start / build", `${duration(r.lastColdStartMs)} / ${duration(r.lastBuildMs)}`],
    ["Reason", esc(r.reason || "-")],
  ];
  const dl = `<dl>${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("")}</dl>`;
  return page(
    r.name,
    `<p><a href="${RESERVED_PREFIX}/">All apps</a></p>${dl}<h2>Recent log lines</h2><pre class="logs">${esc(d.logs || "(none)")}</pre><h2>Config</h2><pre>${esc(JSON.stringify(d.config, null, 2))}</pre>`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${esc(title)} · clace-lite</title><style>${CSS}</style></head><body><h1>${esc(title)}</h1>${body}</body></html>\n`;
}

/** 0 → "-", else a short human duration. */
function duration(ms: number): string {
  if (ms <= 0) return "-";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}th{font-weight:600;background:#f6f6f6}.state{font-weight:600}.running{color:#137333}.failed,.error,.unapproved{color:#b3261e}.building,.starting{color:#8a6d00}.stopped{color:#666}.open{font-size:.85em;margin-left:.4rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dt{font-weight:600}pre{background:#f6f6f6;padding:.8rem;overflow:auto;max-height:30rem}`;

/** Live updates: the state (and reason) cell of the app that changed. */
const LIVE_SCRIPT = `new EventSource(${JSON.stringify(`${RESERVED_PREFIX}/events`)}).addEventListener("state",function(e){var c=JSON.parse(e.data);var rows=document.querySelectorAll("tr[data-app]");for(var i=0;i<rows.length;i++){if(rows[i].getAttribute("data-app")!==c.name)continue;var s=rows[i].querySelector(".state");s.textContent=c.state;s.className="state "+c.state;rows[i].querySelector(".reason").textContent=c.reason;}});`;
