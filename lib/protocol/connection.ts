/**
 * One connection from negotiation to close, for both ends (protocol-and-servers.md §1.1,
 * §1.4): the server side negotiates and dispatches to the named protocol's handler, the
 * client side negotiates and runs one exchange. Either way the connection is closed at the
 * end, as the original does after every request.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import { CorruptDataError, LimitExceededError, ProtocolError, UsageError } from "../errors.ts";
import type { Conn } from "./conn.ts";
import { RemoteError, RequestError } from "./errors.ts";
import { negotiateAsClient, negotiateAsServer, type NegotiationRequest } from "./negotiation.ts";
import { Packet } from "./packet.ts";

/** What a server handler gets. */
export interface HandlerContext {
  packet: Packet;
  request: NegotiationRequest;
  serverId: string;
}

/** Serves one protocol after a successful negotiation. */
export type ProtocolHandler = (context: HandlerContext) => Promise<void>;

/** Options of {@link serveConnection}. */
export interface ServeConnectionOptions {
  serverId: string;
  clock: Clock;
  /** Socket timeout in ms (`-to`); 0 or absent = none (`-ka`). */
  timeoutMs?: number;
  /** This role's protocols, built-ins included. */
  handlers: ReadonlyMap<string, ProtocolHandler>;
}

/** How a served connection ended. */
export interface ConnectionOutcome {
  /** The negotiation request, when it could be read. */
  request?: NegotiationRequest;
  /** False when the server refused the protocol name or version. */
  accepted: boolean;
  /**
   * The operating error that ended the connection early (the original logs it): a
   * peer breaking the protocol, a timeout, or a handler's refusal it rethrew.
   */
  error?: Error;
}

/** True for errors that end one connection without being a bug of ours. */
export function isConnectionError(error: unknown): error is Error {
  return error instanceof ProtocolError || error instanceof CorruptDataError ||
    error instanceof LimitExceededError || error instanceof RemoteError ||
    error instanceof RequestError || error instanceof UsageError;
}

/**
 * Server side of one accepted connection: negotiate, run the handler, close.
 *
 * @returns how it ended; operating errors are returned, never thrown
 * @throws bugs (AssertionError, TypeError, ...) from handlers, after closing
 */
export async function serveConnection(
  conn: Conn,
  options: ServeConnectionOptions,
): Promise<ConnectionOutcome> {
  const packet = new Packet(conn, {
    clock: options.clock,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  let request: NegotiationRequest | undefined;
  try {
    const negotiated = await negotiateAsServer(packet, {
      serverId: options.serverId,
      isServed: (name) => options.handlers.has(name),
    });
    request = negotiated.request;
    if (!negotiated.accepted) return { request, accepted: false };
    const handler = options.handlers.get(request.protocolName)!;
    await handler({ packet, request, serverId: options.serverId });
    return { request, accepted: true };
  } catch (error) {
    if (!isConnectionError(error)) throw error;
    return {
      ...(request === undefined ? {} : { request }),
      accepted: request !== undefined,
      error,
    };
  } finally {
    packet.close();
  }
}

/** Options of {@link runClient}. */
export interface ClientOptions {
  clock: Clock;
  /** Socket timeout in ms (walbc `-to`, default 10 s); 0 = none. */
  timeoutMs?: number;
  clientId: string;
  protocolName: string;
}

/**
 * Client side of one request: negotiate, run `exchange`, close.
 *
 * @throws {RemoteError} when the server refuses the protocol or answers with an error text
 * @throws {ProtocolError} / CorruptDataError / LimitExceededError when it breaks the protocol
 */
export async function runClient<T>(
  conn: Conn,
  options: ClientOptions,
  exchange: (packet: Packet, serverId: string) => Promise<T>,
): Promise<T> {
  const packet = new Packet(conn, {
    clock: options.clock,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  try {
    const serverId = await negotiateAsClient(packet, options);
    return await exchange(packet, serverId);
  } finally {
    packet.close();
  }
}
