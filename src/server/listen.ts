/**
 * A port that is already taken: the listen failure is turned into a message that names the port and how to choose
 * another. Bun's own message names neither (`Failed to listen at 127.0.0.1`), so the busy one is found by trying
 * each port the command asked for.
 */

/** A port the server was told to listen on is taken; the message names it and the flag that picks another. */
export class PortInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PortInUseError";
  }
}

export interface ListenPort {
  /** "HTTP" or "HTTPS". */
  what: string;
  port: number | undefined;
  /** How to choose another, e.g. "--port N" or "--port N, or [http] port in the config". */
  fix: string;
}

function isAddressInUse(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "EADDRINUSE";
}

function busy(host: string, port: number): boolean {
  try {
    Bun.listen({ hostname: host, port, socket: { data() {} } }).stop(true);
    return false;
  } catch (err) {
    return isAddressInUse(err);
  }
}

/** Runs `listen`; a port in use becomes a PortInUseError naming it and the fix. Other errors pass through. */
export function listenOrExplain<T>(host: string, ports: readonly ListenPort[], listen: () => T): T {
  try {
    return listen();
  } catch (err) {
    if (!isAddressInUse(err)) throw err;
    const taken = ports.find((p) => p.port !== undefined && p.port !== 0 && busy(host, p.port));
    if (taken) {
      throw new PortInUseError(`cannot listen on ${host}:${taken.port} (${taken.what}): the port is already in use; choose another with ${taken.fix}, or stop what uses it`);
    }
    const all = ports.filter((p) => p.port !== undefined).map((p) => `${p.port} (${p.what})`).join(", ");
    throw new PortInUseError(`cannot listen on ${host} port ${all}: a port is already in use; choose others with ${ports.map((p) => p.fix).join(" / ")}`);
  }
}
