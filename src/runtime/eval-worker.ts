/**
 * The worker that evaluates app configs off the serving thread (see isolated.ts). One request at a time: it runs
 * loadApp or auditApp and posts back the plain-data result, or the error with its kind, position and fix.
 */
import { auditApp, loadApp } from "./loader.ts";
import { RuntimeError } from "./errors.ts";
import type { EvalReply, EvalRequest } from "./isolated.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<EvalRequest>) => {
  const { id, op, opts } = event.data;
  let reply: EvalReply;
  try {
    const result = op === "load" ? loadApp(opts) : auditApp(opts);
    reply = { id, ok: true, result };
  } catch (err) {
    reply =
      err instanceof RuntimeError
        ? { id, ok: false, error: { kind: err.kind, reason: err.reason, where: err.where, fix: err.fix, detail: err.detail } }
        : { id, ok: false, error: { message: err instanceof Error ? err.message : String(err) } };
  }
  self.postMessage(reply);
};
