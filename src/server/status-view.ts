/**
 * One app as the status page and `app list` show it, made the same way by both hosts (serve and server start)
 * from what they hold: the app's config or load error, its container, the proxy's counters for its mount point
 * and the activity tracker's record of its container.
 */
import type { AppContainer } from "../containers/index.ts";
import type { MountedApp } from "../proxy/index.ts";
import type { AppConfig } from "../runtime/index.ts";
import type { AppActivity } from "./activity.ts";
import type { StatusDetail, StatusRow } from "./status-page.ts";

export interface AppView {
  /** "[domain:]path", the app's name on the page. */
  location: string;
  url: string;
  spec: string;
  config: AppConfig | null;
  /** Why the app cannot serve, when it cannot. */
  loadError: { message: string; needsApproval: boolean } | null;
  container: AppContainer | null;
  mounted: MountedApp | undefined;
  activity: AppActivity | undefined;
}

/** Log lines a detail view shows. */
const DETAIL_LOG_LINES = 100;

/** The lifecycle's state in the page's words: ready is "running"; a load error is "unapproved" or "error". */
export function displayState(state: string): string {
  return state === "ready" ? "running" : state;
}

export function statusRow(v: AppView): StatusRow {
  const a = v.activity;
  const recent = v.mounted?.metrics.recent() ?? { requests: 0, errors: 0 };
  const state = v.loadError ? (v.loadError.needsApproval ? "unapproved" : "error") : v.container ? displayState(v.container.state) : "fixed";
  return {
    name: v.location,
    url: v.url,
    spec: v.spec,
    state,
    image: v.container?.imageRef ?? "",
    container: v.container?.currentContainerId?.slice(0, 12) ?? "",
    uptimeSecs: a !== undefined && a.readySince > 0 && v.container?.state === "ready" ? Math.floor((Date.now() - a.readySince) / 1000) : 0,
    requests: recent.requests,
    errors: recent.errors,
    lastColdStartMs: a?.lastColdStartMs ?? 0,
    lastBuildMs: a?.lastBuildMs ?? 0,
    reason: v.loadError?.message ?? (state === "failed" || state === "stopped" ? (a?.reason ?? "") : ""),
  };
}

export async function statusDetail(v: AppView): Promise<StatusDetail> {
  return {
    row: statusRow(v),
    logs: (await v.container?.recentLogs(DETAIL_LOG_LINES)) ?? "",
    config: v.config ?? { error: v.loadError?.message ?? "not loaded" },
  };
}
