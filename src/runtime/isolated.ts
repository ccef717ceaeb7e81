/**
 * Isolated evaluation: app.star and params.star run in a Bun Worker, never on the thread that serves requests, so
 * a config that loops or allocates without end stalls only its own load. The interpreter stops such a config
 * itself (time and memory budgets, a positioned error); the worker is terminated as a backstop when it does not
 * answer shortly after the time budget (a single builtin call that runs long).
 *
 * Workers are reused: an idle one is kept for the next load (starting one costs the interpreter's start-up). At
 * most MAX_WORKERS evaluate at once (a server booting a hundred apps must not start a hundred interpreters); the
 * other loads wait their turn.
 */
import { dirname } from "node:path";
import type { AppConfig, AuditResult } from "./app-config.ts";
import { RuntimeError, type RuntimeErrorKind } from "./errors.ts";
import { DEFAULT_EVAL_LIMITS, EVAL_LIMIT_SETTINGS, type LoadOptions } from "./loader.ts";

/** The options a worker can receive: plain data only (print hooks stay behind). */
export type IsolatedLoadOptions = Omit<LoadOptions, "print">;

export interface EvalRequest {
  id: number;
  op: "load" | "audit";
  opts: IsolatedLoadOptions;
}

export type EvalReply =
  | { id: number; ok: true; result: AppConfig | AuditResult }
  | {
      id: number;
      ok: false;
      error: { kind: RuntimeErrorKind; reason: string; where?: string; fix?: string; detail?: string } | { message: string };
    };

/** Time a worker gets past its time budget before it is terminated (the interpreter normally stops first). */
const BACKSTOP_GRACE_MS = 2000;
/** Idle workers kept for reuse. */
const MAX_IDLE = 1;
const MAX_WORKERS = Math.max(2, Math.min(8, navigator.hardwareConcurrency || 2));

const idle: Worker[] = [];
let nextId = 1;
let running = 0;
const waiting: (() => void)[] = [];

/** Waits for a free evaluation slot; the returned function frees it. */
async function slot(): Promise<() => void> {
  if (running >= MAX_WORKERS) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  let freed = false;
  return () => {
    if (freed) return;
    freed = true;
    running--;
    waiting.shift()?.();
  };
}

/** Set by `scripts/build.ts --package`: where the bundled worker lies from the bundled CLI (the process's main). */
declare const CLACE_LITE_PACKAGE_WORKER: string | undefined;

function spawn(): Worker {
  // (The bundler writes its own folder for __dirname; Bun.main is where the package was installed.)
  if (typeof CLACE_LITE_PACKAGE_WORKER === "string") return new Worker(`${dirname(Bun.main)}/${CLACE_LITE_PACKAGE_WORKER}`);
  // The compiled program embeds the worker as a second entry point (scripts/build.ts), named by its path under src/.
  const compiled = import.meta.url.startsWith("file:///$bunfs/");
  return new Worker(compiled ? "./runtime/eval-worker.ts" : new URL("./eval-worker.ts", import.meta.url).href);
}

function release(worker: Worker): void {
  if (idle.length < MAX_IDLE) {
    worker.unref();
    idle.push(worker);
  } else worker.terminate();
}

function errorFrom(reply: Extract<EvalReply, { ok: false }>): Error {
  const e = reply.error;
  if ("kind" in e) return new RuntimeError(e.kind, e.reason, e.where, e.fix, e.detail);
  return new Error(e.message);
}

async function evaluate(op: EvalRequest["op"], opts: IsolatedLoadOptions): Promise<AppConfig | AuditResult> {
  const free = await slot();
  try {
    return await evaluateInWorker(op, opts);
  } finally {
    free();
  }
}

function evaluateInWorker(op: EvalRequest["op"], opts: IsolatedLoadOptions): Promise<AppConfig | AuditResult> {
  const timeoutSecs = opts.limits?.timeoutSecs ?? DEFAULT_EVAL_LIMITS.timeoutSecs;
  const worker = idle.pop() ?? spawn();
  worker.ref();
  const id = nextId++;
  const { print: _ignored, ...rest } = opts as LoadOptions;
  // A worker's environment is a copy made when it started; secrets come from this thread's, as it is now.
  const plain: IsolatedLoadOptions = { ...rest, secretEnv: rest.secretEnv ?? { ...process.env } };
  return new Promise((resolve, reject) => {
    const finish = (): void => {
      clearTimeout(backstop);
      worker.removeEventListener("message", onMessage);
      worker.removeEventListener("error", onError);
    };
    const onMessage = (event: MessageEvent<EvalReply>): void => {
      if (event.data.id !== id) return;
      finish();
      release(worker);
      if (event.data.ok) resolve(event.data.result);
      else reject(errorFrom(event.data));
    };
    const onError = (event: ErrorEvent): void => {
      finish();
      worker.terminate();
      reject(new RuntimeError("starlark", `the config evaluation failed: ${event.message}`));
    };
    const backstop = setTimeout(() => {
      finish();
      worker.terminate();
      reject(
        new RuntimeError(
          "starlark",
          `the evaluation of app.star ran past its time budget of ${timeoutSecs} s and was stopped`,
          opts.source ? `${opts.source}/app.star` : "app.star",
          `make the config finish sooner, or raise the budget with ${EVAL_LIMIT_SETTINGS.timeout}`,
        ),
      );
    }, timeoutSecs * 1000 + BACKSTOP_GRACE_MS);
    worker.addEventListener("message", onMessage);
    worker.addEventListener("error", onError);
    worker.postMessage({ id, op, opts: plain } satisfies EvalRequest);
  });
}

/** loadApp in a worker: the same AppConfig or RuntimeError, without blocking this thread. */
export async function loadAppIsolated(opts: IsolatedLoadOptions): Promise<AppConfig> {
  return (await evaluate("load", opts)) as AppConfig;
}

/** auditApp in a worker. */
export async function auditAppIsolated(opts: IsolatedLoadOptions): Promise<AuditResult> {
  return (await evaluate("audit", opts)) as AuditResult;
}
