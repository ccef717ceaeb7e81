/**
 * The memory budget of one evaluation: the interpreter counts what the program allocates for strings, bytes,
 * lists, dicts and sets (every new value and every growth, including intermediate results, never refunded) and
 * refuses an allocation that would take the count past the budget BEFORE making it. Counting instead of
 * measuring the heap keeps the check exact and cheap, and stops `[0] * 1000000000` before the engine tries.
 *
 * The budget in force is the one of the evaluation running on this thread (exec sets it around a module and
 * restores the outer one, so a load() inside an evaluation shares its budget). With none set, charging is free.
 */
import { StarError } from "./errors.ts";

/**
 * What the engine spends beyond the characters or elements themselves, so that the count tracks the process's
 * real memory: a list element (a value slot, with the array's spare capacity), a dict or set entry (key, value,
 * hash and index slots), and a new string (its cell and header).
 */
export const SLOT_BYTES = 16;
export const ENTRY_BYTES = 48;
export const STRING_BYTES = 48;
/** A tuple made by a builtin (enumerate, zip): its object and array. */
export const TUPLE_BYTES = 48;

export class MemoryBudget {
  used = 0;
  constructor(
    /** The budget in bytes. */
    readonly limit: number,
    /** How to raise it, for the error ("--eval-memory-mb or [eval] memory_mb"). */
    readonly setting: string,
  ) {}
}

let current: MemoryBudget | null = null;

/** Makes `budget` the one charged until the returned function restores the previous one. */
export function enterBudget(budget: MemoryBudget | null | undefined): () => void {
  const outer = current;
  if (budget) current = budget;
  return () => {
    current = outer;
  };
}

/** Counts an allocation of `bytes` about to be made; throws if it would exceed the budget in force. */
export function charge(bytes: number): void {
  if (current === null) return;
  const b = current;
  if (b.used + bytes > b.limit) throw overBudget(b, bytes);
  b.used += bytes;
}

function overBudget(b: MemoryBudget, bytes: number): StarError {
  const mb = (n: number) => `${Math.ceil(n / (1024 * 1024))} MB`;
  return new StarError(
    `memory budget exceeded: allocating ${mb(bytes)} more would bring this evaluation to ${mb(b.used + bytes)}, ` +
      `over its budget of ${mb(b.limit)} (raise it with ${b.setting})`,
  );
}
