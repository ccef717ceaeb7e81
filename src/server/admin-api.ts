/**
 * The admin API the CLI's client commands talk to, served on a unix socket ($CL_HOME/run/admin.sock, mode 0600).
 * JSON in, JSON out; errors are `{ "error": "<message for people>" }` with a 4xx/5xx status. Each route is a small
 * function over the host's operations, so the same operations can be driven from tests without HTTP.
 */
import type { MetadataUpdate } from "./metadata-update.ts";
import type { AppHostOperations, CreateAppRequest } from "./types.ts";
import { HostError } from "./types.ts";

type Handler = (host: AppHostOperations, url: URL, req: Request) => Promise<Response>;

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** `dry_run=true`: the operation checks and plans only. */
function dryRun(url: URL): { dryRun: boolean } {
  return { dryRun: url.searchParams.get("dry_run") === "true" };
}

function required(url: URL, name: string): string {
  const value = url.searchParams.get(name);
  if (!value) throw new HostError("usage", `missing query parameter "${name}"`);
  return value;
}

const ROUTES: Record<string, Handler> = {
  "GET /v1/apps": async (host, url) => json(await host.list(url.searchParams.get("glob") ?? "all")),
  "POST /v1/apps": async (host, _url, req) => json(await host.create((await req.json()) as CreateAppRequest), 201),
  "DELETE /v1/apps": async (host, url) => json(await host.delete(required(url, "glob"), dryRun(url))),
  "POST /v1/apps/approve": async (host, url) => json(await host.approve(required(url, "glob"), dryRun(url))),
  "POST /v1/apps/reload": async (host, url) =>
    json(await host.reload(required(url, "glob"), { approve: url.searchParams.get("approve") === "true", ...dryRun(url) })),
  "POST /v1/apps/metadata": async (host, url, req) => {
    const body = (await req.json()) as { update: MetadataUpdate; glob: string; approve?: boolean; dryRun?: boolean };
    if (!body.update || !Array.isArray(body.update.entries) || typeof body.glob !== "string") {
      throw new HostError("usage", 'the body needs "update": {"field", "entries"} and "glob"');
    }
    return json(await host.updateMetadata(body.update, body.glob, { approve: body.approve === true, dryRun: body.dryRun === true }));
  },
  "POST /v1/apps/stop": async (host, url) => json(await host.stop(required(url, "app"))),
  "POST /v1/apps/start": async (host, url) => json(await host.start(required(url, "app"))),
  "GET /v1/apps/logs": async (host, url, req) => {
    const stream = await host.logs(required(url, "app"), { follow: url.searchParams.get("follow") === "true", signal: req.signal });
    return new Response(stream, { headers: { "content-type": "text/plain; charset=utf-8" } });
  },
  "GET /v1/params": async (host, url) => json(await host.listParams(required(url, "app"))),
  "POST /v1/params": async (host, _url, req) => {
    const body = (await req.json()) as { name: string; value: string | null; glob: string; dryRun?: boolean };
    return json(await host.updateParam(body.name, body.value, body.glob, { dryRun: body.dryRun === true }));
  },
  "POST /v1/server/stop": async (host) => {
    // Answer first, then stop, so the client sees the acknowledgement.
    setTimeout(() => void host.shutdown(), 10);
    return json({ stopping: true });
  },
};

const STATUS_BY_KIND: Record<HostError["kind"], number> = {
  usage: 400,
  "not-found": 404,
  conflict: 409,
  failed: 500,
};

/** Builds the fetch handler for Bun.serve({ unix }). */
export function adminHandler(host: AppHostOperations): (req: Request) => Promise<Response> {
  return async (req) => {
    const url = new URL(req.url);
    const route = ROUTES[`${req.method} ${url.pathname}`];
    if (!route) return json({ error: `no admin route ${req.method} ${url.pathname}` }, 404);
    try {
      return await route(host, url, req);
    } catch (err) {
      if (err instanceof HostError) return json({ error: err.message }, STATUS_BY_KIND[err.kind]);
      const message = err instanceof Error ? err.message : String(err);
      return json({ error: message }, 500);
    }
  };
}
