/** `--eval-timeout-secs` and `--eval-memory-mb`: the budgets of evaluating an app's app.star and params.star. */
import { InvalidArgumentError, type Command } from "commander";

export interface EvalLimitFlags {
  evalTimeoutSecs?: number;
  evalMemoryMb?: number;
}

function positive(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} takes a positive number, not "${value}"`);
    return n;
  };
}

export function addEvalLimitOptions(command: Command): Command {
  return command
    .option("--eval-timeout-secs <seconds>", "time budget of evaluating an app's config (default 10)", positive("--eval-timeout-secs"))
    .option("--eval-memory-mb <mb>", "memory budget of evaluating an app's config, counted by the interpreter (default 512)", positive("--eval-memory-mb"));
}

/** The flags as the runtime's EvalLimits; `fallback` (the server config) fills what the flags leave out. */
export function evalLimitsOf(flags: EvalLimitFlags, fallback: { timeout_secs?: number; memory_mb?: number } = {}) {
  const timeoutSecs = flags.evalTimeoutSecs ?? fallback.timeout_secs;
  const memoryMb = flags.evalMemoryMb ?? fallback.memory_mb;
  return { ...(timeoutSecs ? { timeoutSecs } : {}), ...(memoryMb ? { memoryMb } : {}) };
}
