/**
 * Why an app's container could not be made ready, as a kind. The container layer knows nothing of HTTP: the
 * server's upstream adapter maps each kind onto the proxy's failure (and so onto a status code).
 */
export type StartFailure =
  | "start-timeout" // not ready within the start deadline
  | "start-failed" // the build or start failed, or the container died while starting
  | "overloaded" // too many requests already wait for this start
  | "config-error"; // the app's container config cannot run (bad option, no service to proxy to)

export class StartError extends Error {
  constructor(
    readonly kind: StartFailure,
    message: string,
    /** The container's last log lines (or the build output), when there are any. */
    readonly logTail: string = "",
    /** Refused without trying, because the app is backing off after repeated failures. */
    readonly backingOff = false,
  ) {
    super(message);
    this.name = "StartError";
  }
}
