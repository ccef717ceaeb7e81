/** Shared option parsing for commands: repeatable `k=v` flags and simple value checks. */
import { InvalidArgumentError } from "commander";

/** Collects a repeatable `--param k=v` style option into a record; a value without "=" is a usage error. */
export function collectKeyValue(flag: string): (value: string, previous: Record<string, string>) => Record<string, string> {
  return (value, previous) => {
    const eq = value.indexOf("=");
    if (eq <= 0) throw new InvalidArgumentError(`${flag} takes key=value, got "${value}"`);
    return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
  };
}

/** Collects a repeatable option into a list. */
export function collectList(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`not a port number: "${value}"`);
  return port;
}
