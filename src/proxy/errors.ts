/**
 * Error answers of the proxy, as data first (ErrorPage) and rendered apart. Plain text by default (API clients read
 * them); a small HTML page for clients that accept text/html, with the container's last log lines only for
 * clients trusted with internals. Upstream statuses never come through here: they pass through unchanged.
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

/** An answer the proxy writes itself (error pages, redirects, its own endpoints). */
export interface LocalAnswer {
  status: number;
  headers: [string, string][];
  body: string | Uint8Array;
}

/**
 * Render an error page. Plain text unless the client accepts HTML; the container's log tail only for clients the
 * caller trusts with internals (loopback: the developer at the machine), at most LOG_TAIL_LIMIT characters.
 */
export function errorAnswer(page: ErrorPage, accept: string | null, internals: boolean): LocalAnswer {
  const headers: [string, string][] = [["cache-control", "no-store"]];
  if (page.retryAfter) headers.push(["retry-after", RETRY_AFTER]);
  const shown = internals ? page : { ...page, logTail: undefined };
  if (accept !== null && accept.includes("text/html")) {
    headers.push(["content-type", "text/html; charset=utf-8"]);
    return { status: page.status, headers, body: renderHtml(shown) };
  }
  headers.push(["content-type", "text/plain; charset=utf-8"]);
  let text = `${page.title}: ${page.detail}\n`;
  if (page.fix) text += `${page.fix}\n`;
  return { status: page.status, headers, body: text };
}

/** A client's request the proxy refuses before anything reaches an app. */
export function clientErrorPage(status: number, reason: string): ErrorPage {
  return { status, title: STATUS_TEXT[status] ?? "Bad Request", detail: reason };
}

/** The app's answer could not be read, or did not come in time. */
export function brokenAnswerPage(appName: string, reason: string): ErrorPage {
  return { status: 502, title: "Bad Gateway", detail: `app ${appName} sent an invalid answer: ${reason}` };
}

export function answerTimeoutPage(appName: string, seconds: number): ErrorPage {
  return { status: 504, title: "Gateway Timeout", detail: `app ${appName} did not answer within ${seconds} s`, fix: "raise it with --conf proxy.response_header_timeout_secs=N" };
}

export const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  308: "Permanent Redirect",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  414: "URI Too Long",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

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

/** Longest log tail shown in a page: one runaway log line must not make a megabyte page. */
const LOG_TAIL_LIMIT = 8 * 1024;

function renderHtml(page: ErrorPage): string {
  const logTail = page.logTail && page.logTail.length > LOG_TAIL_LIMIT ? `…${page.logTail.slice(-LOG_TAIL_LIMIT)}` : page.logTail;
  const tail = logTail ? `<h2>Last log lines</h2><pre>${escapeHtml(logTail)}</pre>` : "";
  const fix = page.fix ? `<p>${escapeHtml(page.fix)}</p>` : "";
  return `<!doctype html><html><head><meta charset="utf-8"><title>${page.status} ${escapeHtml(page.title)}</title></head><body><h1>${page.status} ${escapeHtml(page.title)}</h1><p>${escapeHtml(page.detail)}</p>${fix}${tail}</body></html>\n`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
