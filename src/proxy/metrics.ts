/**
 * What the proxy counts, per app, for `/_clace_lite/metrics` (Prometheus text format): answers by status class,
 * the time to the answer's head as a histogram, bytes each way, open streams, and failures to reach the app by
 * kind. Recording is a few additions on plain fields of an object the exchange already holds (no lookups, no
 * allocation), so it costs nothing measurable per request. Counters live in the table's registry by mount point,
 * so they survive reloads of an app.
 */

/** Upper bounds, in seconds, of the answer-time histogram's buckets (+Inf is implied). */
export const DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export type StreamKind = "body" | "websocket";

/** The window of the status page's "requests and errors in the last minutes". */
export const RECENT_MINUTES = 5;

function sum(xs: readonly number[]): number {
  let n = 0;
  for (const x of xs) n += x;
  return n;
}

export class AppMetrics {
  /** Answers by status class: index 1 for 1xx ... 5 for 5xx. */
  readonly byClass = [0, 0, 0, 0, 0, 0];
  /** Per-bucket (not yet cumulative) counts of answer times; the last slot is above every bound. */
  readonly buckets = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
  durationSum = 0;
  durationCount = 0;
  receivedBytes = 0;
  sentBytes = 0;
  openBodies = 0;
  openWebSockets = 0;
  readonly upstreamErrors = new Map<string, number>();
  /** Answers and 5xx answers per minute over the last RECENT_MINUTES minutes (a ring indexed by minute). */
  private readonly recentAnswers = new Array<number>(RECENT_MINUTES).fill(0);
  private readonly recentErrors = new Array<number>(RECENT_MINUTES).fill(0);
  private recentMinute = 0;

  constructor(readonly app: string) {}

  /** An answer's head went to the client `seconds` after the request arrived; `now` is performance.now(). */
  answered(status: number, seconds: number, now = performance.now()): void {
    const cls = (status / 100) | 0;
    if (cls >= 1 && cls <= 5) this.byClass[cls]!++;
    const slot = this.advance(now);
    this.recentAnswers[slot]!++;
    if (cls === 5) this.recentErrors[slot]!++;
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    this.buckets[i]!++;
    this.durationSum += seconds;
    this.durationCount++;
  }

  /** Answers and 5xx answers in the last RECENT_MINUTES minutes. */
  recent(now = performance.now()): { requests: number; errors: number } {
    this.advance(now);
    return { requests: sum(this.recentAnswers), errors: sum(this.recentErrors) };
  }

  /** Move the ring to the minute of `now`, clearing the minutes skipped; the slot of that minute. */
  private advance(now: number): number {
    const minute = Math.floor(now / 60_000);
    if (minute !== this.recentMinute) {
      const steps = Math.min(minute - this.recentMinute, RECENT_MINUTES);
      for (let i = 1; i <= steps; i++) {
        const slot = (this.recentMinute + i) % RECENT_MINUTES;
        this.recentAnswers[slot] = 0;
        this.recentErrors[slot] = 0;
      }
      this.recentMinute = minute;
    }
    return minute % RECENT_MINUTES;
  }

  upstreamError(kind: string): void {
    this.upstreamErrors.set(kind, (this.upstreamErrors.get(kind) ?? 0) + 1);
  }

  streamOpened(kind: StreamKind): void {
    if (kind === "websocket") this.openWebSockets++;
    else this.openBodies++;
  }

  streamClosed(kind: StreamKind): void {
    if (kind === "websocket") this.openWebSockets--;
    else this.openBodies--;
  }
}

/** The registry: one AppMetrics per mount point, plus answers for requests no app took (app=""). */
export class ProxyMetrics {
  private readonly apps = new Map<string, AppMetrics>();
  readonly unrouted = new AppMetrics("");

  /** The counters of the app mounted at `key`; a reload under the same name keeps them (a new name starts anew). */
  forApp(key: string, name: string): AppMetrics {
    let m = this.apps.get(key);
    if (m === undefined || m.app !== name) {
      m = new AppMetrics(name);
      this.apps.set(key, m);
    }
    return m;
  }

  /** Forget an app that was removed. */
  drop(key: string): void {
    this.apps.delete(key);
  }

  /** The Prometheus text exposition of every family, with `extra` (server-level families) after them. */
  render(extra: readonly MetricFamily[] = []): string {
    const all = [this.unrouted, ...this.apps.values()];
    const out: string[] = [];
    family(out, "clace_lite_http_requests_total", "counter", "Answers sent to clients, by app and status class.");
    for (const m of all) {
      for (let c = 1; c <= 5; c++) if (m.byClass[c]! > 0 || m !== this.unrouted) out.push(`clace_lite_http_requests_total{app=${q(m.app)},status_class="${c}xx"} ${m.byClass[c]}`);
    }
    family(out, "clace_lite_http_request_duration_seconds", "histogram", "Time from a request's arrival to its answer's head, including any cold start.");
    for (const m of all) {
      let cumulative = 0;
      for (let i = 0; i < DURATION_BUCKETS.length; i++) {
        cumulative += m.buckets[i]!;
        out.push(`clace_lite_http_request_duration_seconds_bucket{app=${q(m.app)},le="${DURATION_BUCKETS[i]}"} ${cumulative}`);
      }
      cumulative += m.buckets[DURATION_BUCKETS.length]!;
      out.push(`clace_lite_http_request_duration_seconds_bucket{app=${q(m.app)},le="+Inf"} ${cumulative}`);
      out.push(`clace_lite_http_request_duration_seconds_sum{app=${q(m.app)}} ${m.durationSum}`);
      out.push(`clace_lite_http_request_duration_seconds_count{app=${q(m.app)}} ${m.durationCount}`);
    }
    family(out, "clace_lite_http_received_bytes_total", "counter", "Request body bytes received from clients and passed to apps.");
    for (const m of all) out.push(`clace_lite_http_received_bytes_total{app=${q(m.app)}} ${m.receivedBytes}`);
    family(out, "clace_lite_http_sent_bytes_total", "counter", "Answer bytes (heads and bodies) sent to clients.");
    for (const m of all) out.push(`clace_lite_http_sent_bytes_total{app=${q(m.app)}} ${m.sentBytes}`);
    family(out, "clace_lite_open_streams", "gauge", "Answers still streaming (SSE, downloads) and WebSocket tunnels open, by app.");
    for (const m of all) {
      out.push(`clace_lite_open_streams{app=${q(m.app)},kind="body"} ${m.openBodies}`);
      out.push(`clace_lite_open_streams{app=${q(m.app)},kind="websocket"} ${m.openWebSockets}`);
    }
    family(out, "clace_lite_upstream_errors_total", "counter", "Requests the proxy answered itself because the app could not be reached or answered wrongly, by kind.");
    for (const m of all) for (const [kind, n] of m.upstreamErrors) out.push(`clace_lite_upstream_errors_total{app=${q(m.app)},kind=${q(kind)}} ${n}`);
    for (const f of extra) {
      family(out, f.name, f.type ?? "gauge", f.help);
      const series = f.type === "histogram" ? `${f.name}_bucket` : f.name;
      for (const [labels, value] of f.samples) out.push(`${series}${labels === "" ? "" : `{${labels}}`} ${value}`);
      for (const [labels, value] of f.sums ?? []) out.push(`${f.name}_sum${labels === "" ? "" : `{${labels}}`} ${value}`);
      for (const [labels, value] of f.counts ?? []) out.push(`${f.name}_count${labels === "" ? "" : `{${labels}}`} ${value}`);
    }
    return `${out.join("\n")}\n`;
  }
}

/** Samples as label text (written as given: a="b",c="d") and a value. */
export type Samples = readonly (readonly [labels: string, value: number])[];

/**
 * A family of samples a host adds (apps by state, cold starts, memory). For a histogram, `samples` are its
 * cumulative buckets (labels with le) and `sums`/`counts` its _sum and _count series.
 */
export interface MetricFamily {
  name: string;
  help: string;
  type?: "gauge" | "counter" | "histogram";
  samples: Samples;
  sums?: Samples;
  counts?: Samples;
}

function family(out: string[], name: string, type: string, help: string): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
}

/** A label value, quoted and escaped per the text format. */
export function q(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`;
}
