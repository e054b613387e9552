/**
 * Errors of the protocol layer beyond the shared ones of `lib/errors.ts`.
 *
 * @module
 */
import { ProtocolError } from "../errors.ts";

/** No byte arrived (or could be sent) within the connection's timeout (SO_RCVTIMEO/SO_SNDTIMEO). */
export class ProtocolTimeoutError extends ProtocolError {
  constructor(
    readonly operation: "read" | "write",
    readonly timeoutMs: number,
    options?: ErrorOptions,
  ) {
    super(`Cannot ${operation} on the connection: no progress within ${timeoutMs} ms`, options);
    this.name = "ProtocolTimeoutError";
  }
}

/** The peer closed the connection where a value was expected (clean end of stream). */
export class ConnectionClosedError extends ProtocolError {
  constructor(readonly what: string, options?: ErrorOptions) {
    super(`Cannot read ${what}: the peer closed the connection`, options);
    this.name = "ConnectionClosedError";
  }
}

/**
 * The peer answered with an error string where a status string ("ok", "accept", ...) was
 * expected (protocol-and-servers.md §1.6). Not a protocol break: the peer refused.
 */
export class RemoteError extends Error {
  /**
   * @param context where it happened, e.g. "run1stNegotiateAsClient"
   * @param remoteMessage the string received, verbatim (may carry a stack trace)
   */
  constructor(readonly context: string, readonly remoteMessage: string, options?: ErrorOptions) {
    super(`${context}:${stripStackTrace(remoteMessage)}`, options);
    this.name = "RemoteError";
  }
}

/** Marker that the original servers put between an error text and its stack trace. */
export const STACK_TRACE_MARKER = "\n<<<STACKTRACE>>>";

/**
 * Returns an error string without the original server's stack-trace tail (what walbc shows).
 *
 * @example
 * ```ts
 * import { stripStackTrace } from "./errors.ts";
 * const text = stripStackTrace("findServerHandler:bad protocol:x:vm\n<<<STACKTRACE>>> 0x1");
 * if (text !== "findServerHandler:bad protocol:x:vm") throw new Error(text);
 * ```
 */
export function stripStackTrace(message: string): string {
  const index = message.indexOf(STACK_TRACE_MARKER);
  return index < 0 ? message : message.slice(0, index);
}

/**
 * A request is invalid (bad parameters, unknown target, wrong state); the message is the
 * error text a handler sends back in place of the status string.
 */
export class RequestError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RequestError";
  }
}
