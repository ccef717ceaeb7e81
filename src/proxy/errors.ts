/**
 * Error responses of the proxy. Plain text by default (API clients read them); a small HTML page with the
 * container's last log lines for clients that accept text/html. Upstream statuses never come through here: they
 * pass through unchanged.
 */
import type { AppLoadError } from "./app-table.ts";
import { UpstreamError } from "./upstream.ts";

/** Seconds a client should wait before retrying a 503/504. */
const RETRY_AFTER = "5";

export interface ErrorPage {
  status: number;
  title: string;
  detail: string;
  fix?: string;
  logTail?: string;
  retryAfter?: boolean;
}

export function errorResponse(page: ErrorPage, accept: string | null): Response {
  const headers = new Headers({ "cache-control": "no-store" });
  if (page.retryAfter) headers.set("retry-after", RETRY_AFTER);
  if (accept !== null && accept.includes("text/html")) {
    headers.set("content-type", "text/html; charset=utf-8");
    return new Response(renderHtml(page), { status: page.status, headers });
  }
  headers.set("content-type", "text/plain; charset=utf-8");
  let text = `${page.title}: ${page.detail}\n`;
  if (page.fix) text += `${page.fix}\n`;
  return new Response(text, { status: page.status, headers });
}

/** UpstreamError → 504 (start deadline), 503 (start failed, overloaded), 500 (not approved, broken config). */
export function upstreamErrorPage(err: UpstreamError, appName: string): ErrorPage {
  switch (err.failure) {
    case "start-timeout":
      return { status: 504, title: "Gateway Timeout", detail: `app ${appName} did not become ready in time: ${err.message}`, logTail: err.logTail, retryAfter: true };
    case "start-failed":
      return { status: 503, title: "Service Unavailable", detail: `app ${appName} failed to start: ${err.message}`, logTail: err.logTail, retryAfter: true };
    case "overloaded":
      return { status: 503, title: "Service Unavailable", detail: `app ${appName} is starting and too many requests are waiting: ${err.message}`, retryAfter: true };
    case "not-approved":
      return { status: 500, title: "Internal Server Error", detail: `app ${appName} is not approved: ${err.message}`, fix: `approve it with: clace-lite app approve ${appName}` };
    case "config-error":
      return { status: 500, title: "Internal Server Error", detail: `app ${appName} has a config error: ${err.message}`, fix: "fix the app's app.star or params, then reload the app" };
  }
}

export function loadErrorPage(err: AppLoadError, appName: string): ErrorPage {
  return { status: 500, title: "Internal Server Error", detail: `app ${appName}: ${err.message}`, fix: err.fix };
}

export function badGatewayPage(appName: string, cause: unknown): ErrorPage {
  return { status: 502, title: "Bad Gateway", detail: `app ${appName} did not answer: ${describeCause(cause)}` };
}

/** Anything thrown while waiting for the upstream: UpstreamError keeps its meaning, the rest is a 503. */
export function readinessErrorPage(err: unknown, appName: string): ErrorPage {
  if (err instanceof UpstreamError) return upstreamErrorPage(err, appName);
  return { status: 503, title: "Service Unavailable", detail: `app ${appName} could not be made ready: ${describeCause(err)}`, retryAfter: true };
}

export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === "string" && !cause.message.includes(code) ? `${cause.message} (${code})` : cause.message;
  }
  return String(cause);
}

function renderHtml(page: ErrorPage): string {
  const tail = page.logTail ? `<h2>Last log lines</h2><pre>${escapeHtml(page.logTail)}</pre>` : "";
  const fix = page.fix ? `<p>${escapeHtml(page.fix)}</p>` : "";
  return `<!doctype html><html><head><meta charset="utf-8"><title>${page.status} ${escapeHtml(page.title)}</title></head><body><h1>${page.status} ${escapeHtml(page.title)}</h1><p>${escapeHtml(page.detail)}</p>${fix}${tail}</body></html>\n`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
