/** The client side of the admin API: JSON requests over the server's unix socket. */
import { existsSync } from "node:fs";
import { UserError } from "./output.ts";

export class AdminClient {
  /** The server's admin socket: `socket`, else the one under CL_HOME (found on the first request). */
  constructor(private socket?: string) {}

  private async socketPath(): Promise<string> {
    // The server layer is loaded on use, so the CLI's other commands stay quick to start.
    this.socket ??= (await import("../server/index.ts")).homePaths().adminSocket;
    return this.socket;
  }

  private notRunning(socketPath: string): UserError {
    return new UserError(`the clace-lite server is not running (no admin socket at ${socketPath}); start it with: clace-lite server start`);
  }

  async request(method: string, path: string, body?: unknown): Promise<Response> {
    const socketPath = await this.socketPath();
    if (!existsSync(socketPath)) throw this.notRunning(socketPath);
    let response: Response;
    try {
      response = await fetch(`http://clace-lite${path}`, {
        method,
        unix: socketPath,
        headers: body === undefined ? undefined : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        // A reload may build for minutes and `logs -f` streams for as long as it is asked to.
        timeout: false,
      });
    } catch (err) {
      // A socket that refuses is a server that is gone; a request cut midway is something else, and says what.
      if ((err as { code?: string }).code === "ECONNREFUSED" || (err as { code?: string }).code === "ENOENT") throw this.notRunning(socketPath);
      throw new UserError(`the request to the clace-lite server failed: ${(err as Error).message} (see the server's log)`);
    }
    if (!response.ok) {
      const text = await response.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new UserError(message);
    }
    return response;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await (await this.request(method, path, body)).json()) as T;
  }
}
