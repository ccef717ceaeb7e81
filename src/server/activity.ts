/**
 * What the server knows about each app's containers over time, from the lifecycle's events: the current state and
 * since when, the last cold start and build durations, why it last failed, and counts of cold starts, idle stops
 * and crashes. It feeds the status page (and its live updates), the metrics and `app list`.
 */
import type { ContainerEvent } from "../containers/index.ts";
import { promLabel as q, type MetricFamily } from "../proxy/index.ts";

/** Upper bounds, in seconds, of the cold-start and build histograms. */
const START_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export interface AppActivity {
  appId: string;
  appName: string;
  state: string;
  /** Epoch ms when the state last changed. */
  since: number;
  /** Epoch ms when the container last became ready (0: never). */
  readySince: number;
  lastColdStartMs: number;
  lastBuildMs: number;
  /** Why the app last failed or stopped, as the lifecycle said it. */
  reason: string;
  coldStarts: number;
  idleStops: number;
  idlePauses: number;
  wakes: number;
  /** The last wake from a pause (0: none yet). */
  lastWakeMs: number;
  crashes: number;
}

/** A change the status page pushes to open pages. */
export interface ActivityChange {
  appId: string;
  appName: string;
  state: string;
  reason: string;
}

class Histogram {
  readonly counts = new Array<number>(START_BUCKETS.length + 1).fill(0);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < START_BUCKETS.length && seconds > START_BUCKETS[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

export class ActivityTracker {
  private readonly apps = new Map<string, AppActivity>();
  private readonly buildStarted = new Map<string, number>();
  private readonly coldStartTimes = new Map<string, Histogram>();
  private readonly buildTimes = new Map<string, Histogram>();
  private readonly wakeTimes = new Map<string, Histogram>();
  private readonly listeners = new Set<(change: ActivityChange) => void>();

  /** Feed every ContainerEvent of the host through here. */
  observe(e: ContainerEvent): void {
    const now = Date.now();
    switch (e.type) {
      case "state": {
        if (e.candidate) return;
        const a = this.app(e.appId, e.appName);
        a.state = e.state;
        a.since = now;
        if (e.reason) a.reason = e.reason;
        if (e.state === "building") this.buildStarted.set(e.appId, now);
        if (e.previous === "building") {
          const started = this.buildStarted.get(e.appId);
          if (started !== undefined && e.state !== "failed") {
            a.lastBuildMs = now - started;
            histogram(this.buildTimes, a.appName).observe(a.lastBuildMs / 1000);
          }
          this.buildStarted.delete(e.appId);
        }
        // A pause keeps the container (and its uptime); any other state but ready ends it.
        if (e.state !== "ready" && e.state !== "paused") a.readySince = 0;
        this.emit({ appId: a.appId, appName: a.appName, state: a.state, reason: a.reason });
        break;
      }
      case "ready": {
        const a = this.app(e.appId, e.appName);
        a.readySince = now;
        if (!e.adopted) {
          a.coldStarts++;
          a.lastColdStartMs = e.coldStartMs;
          histogram(this.coldStartTimes, a.appName).observe(e.coldStartMs / 1000);
        }
        break;
      }
      case "idle-stop":
        this.app(e.appId, "").idleStops++;
        break;
      case "idle-pause":
        this.app(e.appId, "").idlePauses++;
        break;
      case "wake": {
        const a = this.app(e.appId, "");
        a.wakes++;
        a.lastWakeMs = e.wakeMs;
        histogram(this.wakeTimes, a.appName).observe(e.wakeMs / 1000);
        break;
      }
      case "crash": {
        const a = this.app(e.appId, "");
        a.crashes++;
        a.reason = `the container exited${e.exitCode === undefined ? "" : ` with code ${e.exitCode}`}`;
        break;
      }
    }
  }

  get(appId: string): AppActivity | undefined {
    return this.apps.get(appId);
  }

  /** An app that was deleted: its numbers go with it. */
  forget(appId: string): void {
    const a = this.apps.get(appId);
    this.apps.delete(appId);
    if (a !== undefined) {
      this.coldStartTimes.delete(a.appName);
      this.buildTimes.delete(a.appName);
      this.wakeTimes.delete(a.appName);
    }
  }

  subscribe(listener: (change: ActivityChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Server-level families for /_clace_lite/metrics. */
  families(): MetricFamily[] {
    const byState = new Map<string, number>();
    for (const a of this.apps.values()) byState.set(a.state, (byState.get(a.state) ?? 0) + 1);
    const all = [...this.apps.values()];
    return [
      { name: "clace_lite_apps", help: "Apps by the state of their container.", samples: [...byState].map(([state, n]) => [`state=${q(state)}`, n] as const) },
      { name: "clace_lite_cold_starts_total", help: "Containers started for a request (not adopted at boot).", type: "counter", samples: all.map((a) => [`app=${q(a.appName)}`, a.coldStarts] as const) },
      { name: "clace_lite_idle_stops_total", help: "Containers stopped because their app was idle.", type: "counter", samples: all.map((a) => [`app=${q(a.appName)}`, a.idleStops] as const) },
      { name: "clace_lite_idle_pauses_total", help: "Containers paused because their app was idle.", type: "counter", samples: all.map((a) => [`app=${q(a.appName)}`, a.idlePauses] as const) },
      ...histogramFamily("clace_lite_wake_duration_seconds", "Time to unpause a paused container for a request.", this.wakeTimes),
      { name: "clace_lite_crash_restarts_total", help: "Containers that exited while serving (restarted on the next request).", type: "counter", samples: all.map((a) => [`app=${q(a.appName)}`, a.crashes] as const) },
      ...histogramFamily("clace_lite_cold_start_duration_seconds", "Time from a cold start's beginning to the app answering its health check.", this.coldStartTimes),
      ...histogramFamily("clace_lite_build_duration_seconds", "Time the app's image took to build.", this.buildTimes),
    ];
  }

  private app(appId: string, appName: string): AppActivity {
    let a = this.apps.get(appId);
    if (a === undefined) {
      a = { appId, appName, state: "stopped", since: Date.now(), readySince: 0, lastColdStartMs: 0, lastBuildMs: 0, reason: "", coldStarts: 0, idleStops: 0, idlePauses: 0, wakes: 0, lastWakeMs: 0, crashes: 0 };
      this.apps.set(appId, a);
    } else if (appName !== "" && a.appName !== appName) {
      a.appName = appName;
    }
    return a;
  }

  private emit(change: ActivityChange): void {
    for (const l of this.listeners) l(change);
  }
}

function histogram(map: Map<string, Histogram>, app: string): Histogram {
  let h = map.get(app);
  if (h === undefined) {
    h = new Histogram();
    map.set(app, h);
  }
  return h;
}

/** A histogram as gauge samples: the _bucket (cumulative), _sum and _count series under one family. */
function histogramFamily(name: string, help: string, byApp: Map<string, Histogram>): MetricFamily[] {
  const samples: (readonly [string, number])[] = [];
  for (const [app, h] of byApp) {
    let cumulative = 0;
    for (let i = 0; i < START_BUCKETS.length; i++) {
      cumulative += h.counts[i]!;
      samples.push([`app=${q(app)},le="${START_BUCKETS[i]}"`, cumulative]);
    }
    samples.push([`app=${q(app)},le="+Inf"`, cumulative + h.counts[START_BUCKETS.length]!]);
  }
  const sums = [...byApp].map(([app, h]) => [`app=${q(app)}`, h.sum] as const);
  const counts = [...byApp].map(([app, h]) => [`app=${q(app)}`, h.count] as const);
  return [{ name, help, type: "histogram", samples, sums, counts }];
}
