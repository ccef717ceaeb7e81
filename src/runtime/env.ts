/**
 * The container's environment, as Clace builds it: every param (declared or not) as a string, without the
 * `secrets` param, plus CL_APP_PATH (the app path, "" at the root) and PORT (the container port).
 */
import type { ResolvedParam } from "./params.ts";
import { paramEnvString } from "./params.ts";

export function appPathEnv(path: string): string {
  return path === "/" ? "" : path.replace(/\/+$/, "");
}

export function buildEnv(params: readonly ResolvedParam[], appPath: string, port: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of params) {
    if (p.name === "secrets") continue;
    env[p.name] = paramEnvString(p.value);
  }
  env.CL_APP_PATH = appPathEnv(appPath);
  if (port > 0) env.PORT = String(port);
  return Object.freeze(env);
}
