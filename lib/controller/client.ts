/**
 * One server, reached by address: every request opens a fresh connection (connect timeout),
 * negotiates with the command name as protocol name, runs one exchange with the socket
 * timeout and closes (protocol-and-servers.md §1.4, §1.7; walbc `-to`, `-id`, `-retry`).
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import type { Net, NetAddr } from "../net.ts";
import { runClient } from "../protocol/connection.ts";
import { DEFAULT_TIMEOUT_MS } from "../protocol/constants.ts";
import type { Packet } from "../protocol/packet.ts";

/** Default client id (the Python library always passes `-id ctl`). */
export const DEFAULT_CLIENT_ID = "ctl";

/** Pause between attempts of a retried `status`/`get` (walbc: 100 ms). */
export const RETRY_INTERVAL_MS = 100;

/** How a {@link ServerClient} talks. */
export interface ClientOptions {
  /** The network to connect over. */
  net: Net;
  /** The clock of timeouts and retries. */
  clock: Clock;
  /** Sent in the negotiation (default `ctl`). */
  clientId?: string;
  /** Connect and socket timeout in ms (default 10 s; 0 = none). */
  timeoutMs?: number;
}

/** Where a server listens. */
export interface ServerAddress {
  /** Host name or address. */
  address: string;
  /** TCP port. */
  port: number;
  /** For messages; default `address:port`. */
  name?: string;
}

/** Per-request options. */
export interface RequestOptions {
  /** Overrides the client's timeout for this request (ms; 0 = none). */
  timeoutMs?: number;
  /** Extra attempts after a failure, each on a new connection, 100 ms apart (default 0). */
  retryCount?: number;
  /** Told about every failed attempt that will be retried. */
  onRetry?: (error: unknown, attempt: number) => void;
}

/**
 * A client of one server.
 *
 * @example
 * ```ts
 * import { ServerClient } from "./client.ts";
 * import { MemoryNet } from "../testing/net.ts";
 * import { realClock } from "../clock.ts";
 * const client = new ServerClient({ address: "a0", port: 1 }, {
 *   net: new MemoryNet(),
 *   clock: realClock,
 * });
 * if (client.name !== "a0:1") throw new Error(client.name);
 * ```
 */
export class ServerClient {
  /** Where the server listens. */
  readonly server: ServerAddress;
  /** How to talk to it. */
  readonly options: ClientOptions;

  /** A client of `server`; nothing is connected until a request. */
  constructor(server: ServerAddress, options: ClientOptions) {
    this.server = server;
    this.options = options;
  }

  /** The server's name for messages. */
  get name(): string {
    return this.server.name ?? `${this.server.address}:${this.server.port}`;
  }

  /** The network address. */
  get addr(): NetAddr {
    return { hostname: this.server.address, port: this.server.port };
  }

  /** The clock requests and retries use. */
  get clock(): Clock {
    return this.options.clock;
  }

  /**
   * Runs `exchange` after negotiating `protocolName` on a new connection.
   *
   * @throws {RemoteError} when the server refuses (its text)
   * @throws {ProtocolError} / ConnectTimeoutError / Deno network errors on connection failures
   */
  async request<T>(
    protocolName: string,
    exchange: (packet: Packet, serverId: string) => Promise<T>,
    options: RequestOptions = {},
  ): Promise<T> {
    const retryCount = options.retryCount ?? 0;
    for (let attempt = 0;; attempt++) {
      try {
        return await this.#requestOnce(protocolName, exchange, options.timeoutMs);
      } catch (error) {
        if (attempt >= retryCount) throw error;
        options.onRetry?.(error, attempt + 1);
        await this.options.clock.sleep(RETRY_INTERVAL_MS);
      }
    }
  }

  async #requestOnce<T>(
    protocolName: string,
    exchange: (packet: Packet, serverId: string) => Promise<T>,
    timeoutMsGiven: number | undefined,
  ): Promise<T> {
    const timeoutMs = timeoutMsGiven ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const conn = await this.options.net.connect(this.addr, { timeoutMs });
    return await runClient(conn, {
      clock: this.options.clock,
      timeoutMs,
      clientId: this.options.clientId ?? DEFAULT_CLIENT_ID,
      protocolName,
    }, exchange);
  }
}
