/**
 * Errors of the controller library (controller-api.md §0.4): a failed request names the
 * server and the full argument list; a failed operation (bad state, bad goal, timeout of a
 * wait) says what was being done.
 *
 * @module
 */

/**
 * One request to one server failed: refused by the server (its error text), broken
 * connection, timeout, or a bad reply. The original library raises with the full walbc
 * argument list and the exit status; here the cause carries the detail.
 */
export class RequestFailedError extends Error {
  /**
   * A failed request.
   * @param serverName the server's name in the layout (or its address)
   * @param args the command and its parameters, as walbc would get them
   * @param detail what went wrong (the server's error text for a refusal)
   */
  constructor(
    readonly serverName: string,
    readonly args: readonly string[],
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(`Cannot run ${args.join(" ")} on ${serverName}: ${detail}`, options);
    this.name = "RequestFailedError";
  }
}

/**
 * A controller operation cannot go on: a precondition does not hold (a state, a gid), a
 * wait ended in a bad goal state, or a wait timed out.
 */
export class ControllerError extends Error {
  /** An operation failure with its message. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ControllerError";
  }
}

/** A wait helper ran out of time (controller-api.md §13). */
export class WaitTimeoutError extends ControllerError {
  /**
   * A wait timeout.
   * @param what what was waited for
   * @param timeoutMs the time allowed
   * @param last the last value seen (e.g. the state), if any
   */
  constructor(readonly what: string, readonly timeoutMs: number, readonly last?: string) {
    super(
      `Cannot wait for ${what}: timed out after ${timeoutMs} ms` +
        (last === undefined ? "" : ` (last seen: ${last})`),
    );
    this.name = "WaitTimeoutError";
  }
}
