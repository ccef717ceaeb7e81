/**
 * RuntimeError: why an app folder could not be turned into an AppConfig. It carries a kind, a message for people,
 * where it happened (file:line:col or the param/conf key) and the command or edit that fixes it; the CLI renders it
 * with `render()` and the server turns it into an HTTP 500 page.
 */

export type RuntimeErrorKind =
  | "source" // the app folder or a file in it is missing or unreadable
  | "spec" // unknown spec
  | "starlark" // a syntax or evaluation error in app.star / params.star / a loaded .star file
  | "config" // app.star ran but describes something invalid (no `app`, bad arguments, no port ...)
  | "param" // a param declaration or value is invalid, or a required one is missing
  | "conf" // an unknown or invalid --conf key
  | "not-approved"; // a plugin load or call is not approved

export class RuntimeError extends Error {
  /** The message without the "where: " prefix. */
  readonly reason: string;
  constructor(
    readonly kind: RuntimeErrorKind,
    message: string,
    /** Where: "app.star:3:7", "param port", "conf container.idle_shutdown_secs" ... */
    readonly where?: string,
    /** What to do about it, e.g. "run `clace-lite app approve /x`". */
    readonly fix?: string,
    /** A rendered detail block (a Starlark error with its caret and backtrace). */
    readonly detail?: string,
  ) {
    super(where ? `${where}: ${message}` : message);
    this.reason = message;
    this.name = "RuntimeError";
  }

  render(): string {
    const lines: string[] = [];
    if (this.detail) lines.push(this.detail.trimEnd());
    else lines.push(`error: ${this.message}`);
    if (this.fix) lines.push(`fix: ${this.fix}`);
    return lines.join("\n");
  }
}
