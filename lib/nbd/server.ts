/**
 * NBD server over sockets: listens on a unix socket and/or a TCP port (loopback by default),
 * runs the handshake and the transmission phase for each accepted connection, and stops
 * gracefully. One misbehaving client never affects another.
 *
 * @module
 */
import { type Clock, RealClock } from "../clock.ts";
import { CorruptDataError, UsageError } from "../errors.ts";
import type { NbdBackend, NbdLogger } from "./backend.ts";
import { type ExportConfig, negotiate } from "./handshake.ts";
import { NBD_LIMITS } from "./limits.ts";
import { NbdReader } from "./reader.ts";
import { isConnectionError, Transmission } from "./transmission.ts";

/** Where and how an {@link NbdServer} serves. */
export interface NbdServerOptions {
  /** Export name (default ""); clients asking for "" get it too. */
  exportName?: string;
  /** Export description sent when a client asks for it. */
  description?: string;
  /** Unix socket path. A stale socket file is replaced; a live one is an error. */
  unixPath?: string;
  /** TCP listener; hostname defaults to 127.0.0.1, port 0 picks a free port. */
  tcp?: { hostname?: string; port: number };
  logger: NbdLogger;
  /** Clock for the handshake timeout (default: the real clock). */
  clock?: Clock;
  /** Time a client has to finish the handshake [ms]. */
  handshakeTimeoutMs?: number;
  /** Requests in flight per connection. */
  inFlightMax?: number;
  /** Payload bytes in flight per connection. */
  inFlightBytesMax?: number;
}

interface Connection {
  conn: Deno.Conn;
  label: string;
  transmission: Transmission | null;
  done: Promise<void>;
}

/**
 * Serves one export over NBD.
 *
 * @example
 * ```ts
 * import { silentLogger } from "./backend.ts";
 * import { NbdServer } from "./server.ts";
 * import { MemoryBackend } from "./testing_backends.ts";
 * const server = await NbdServer.listen(new MemoryBackend(1 << 20), {
 *   tcp: { port: 0 },
 *   logger: silentLogger,
 * });
 * if (server.tcpPort === null) throw new Error("no port");
 * await server.stop();
 * ```
 */
export class NbdServer {
  #config: ExportConfig;
  #options: NbdServerOptions;
  #logger: NbdLogger;
  #clock: Clock;
  #listeners: Deno.Listener[] = [];
  #acceptLoops: Promise<void>[] = [];
  #connections = new Set<Connection>();
  #connectionIndex = 0;
  #stopping = false;
  #unixPath: string | null = null;
  #tcpPort: number | null = null;

  private constructor(backend: NbdBackend, options: NbdServerOptions) {
    this.#config = { name: options.exportName ?? "", backend };
    if (options.description !== undefined) this.#config.description = options.description;
    this.#options = options;
    this.#logger = options.logger;
    this.#clock = options.clock ?? new RealClock();
  }

  /**
   * Opens the listeners and starts accepting.
   *
   * @throws {UsageError} without any listener, or when the unix path is a live socket or not
   *   a socket
   */
  static async listen(backend: NbdBackend, options: NbdServerOptions): Promise<NbdServer> {
    if (options.unixPath === undefined && options.tcp === undefined) {
      throw new UsageError("Cannot start the NBD server: neither a unix path nor a TCP port");
    }
    const server = new NbdServer(backend, options);
    try {
      if (options.unixPath !== undefined) await server.#listenUnix(options.unixPath);
      if (options.tcp !== undefined) {
        const listener = Deno.listen({
          transport: "tcp",
          hostname: options.tcp.hostname ?? "127.0.0.1",
          port: options.tcp.port,
        });
        server.#tcpPort = listener.addr.port;
        server.#listeners.push(listener);
      }
    } catch (error) {
      server.#closeListeners();
      server.#removeSocketFile();
      throw error;
    }
    for (const listener of server.#listeners) server.#acceptLoops.push(server.#accept(listener));
    return server;
  }

  /** The bound TCP port, or null without TCP. */
  get tcpPort(): number | null {
    return this.#tcpPort;
  }

  /** Connections open now (handshaking or transmitting). */
  get connectionCount(): number {
    return this.#connections.size;
  }

  async #listenUnix(path: string): Promise<void> {
    let stat: Deno.FileInfo | null = null;
    try {
      stat = Deno.lstatSync(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    if (stat !== null) {
      if (stat.isSocket !== true) {
        throw new UsageError(`Cannot listen on ${path}: it exists and is not a socket`);
      }
      if (await isListening(path)) {
        throw new UsageError(`Cannot listen on ${path}: another server listens there`);
      }
      // A socket file nobody listens on is left from a crashed server: replace it.
      Deno.removeSync(path);
    }
    this.#listeners.push(Deno.listen({ transport: "unix", path }));
    this.#unixPath = path;
  }

  async #accept(listener: Deno.Listener): Promise<void> {
    while (!this.#stopping) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (this.#stopping || error instanceof Deno.errors.BadResource) return;
        this.#logger.error("NBD accept failed", error);
        continue;
      }
      if (this.#stopping) {
        conn.close();
        return;
      }
      this.#serve(conn);
    }
  }

  #serve(conn: Deno.Conn): void {
    const label = `nbd connection ${++this.#connectionIndex}`;
    if (conn.remoteAddr.transport === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
    const connection: Connection = { conn, label, transmission: null, done: Promise.resolve() };
    this.#connections.add(connection);
    connection.done = this.#run(connection)
      .catch((error) => this.#logger.error(`${label}: failed`, error))
      .finally(() => {
        try {
          conn.close();
        } catch (error) {
          if (!(error instanceof Deno.errors.BadResource)) throw error;
        }
        this.#connections.delete(connection);
        this.#logger.info(`${label}: closed`);
      });
  }

  async #run(connection: Connection): Promise<void> {
    const { conn, label } = connection;
    this.#logger.info(`${label}: accepted`);
    const reader = new NbdReader(conn);
    const timeout = new AbortController();
    const timeoutMs = this.#options.handshakeTimeoutMs ?? NBD_LIMITS.handshakeTimeoutMsDefault;
    const timer = this.#clock.sleep(timeoutMs, timeout.signal).then(() => {
      this.#logger.warn(`${label}: handshake not finished within ${timeoutMs} ms`);
      conn.close();
    }, () => {});
    let result;
    try {
      result = await negotiate(reader, conn, this.#config);
    } catch (error) {
      if (error instanceof CorruptDataError) {
        this.#logger.warn(`${label}: bad handshake`, error);
        return;
      }
      if (isConnectionError(error)) return;
      throw error;
    } finally {
      timeout.abort();
      await timer;
    }
    if (result.kind === "closed") {
      this.#logger.info(`${label}: handshake ended: ${result.reason}`);
      return;
    }
    if (this.#stopping) return;
    const { inFlightMax, inFlightBytesMax } = this.#options;
    const transmissionOptions = {
      logger: this.#logger,
      label,
      ...(inFlightMax !== undefined ? { inFlightMax } : {}),
      ...(inFlightBytesMax !== undefined ? { inFlightBytesMax } : {}),
    };
    const transmission = new Transmission(reader, conn, this.#config.backend, transmissionOptions);
    connection.transmission = transmission;
    const reason = await transmission.run();
    this.#logger.info(`${label}: ${reason} after ${transmission.repliesSent} replies`);
  }

  #closeListeners(): void {
    for (const listener of this.#listeners) {
      try {
        listener.close();
      } catch (error) {
        if (!(error instanceof Deno.errors.BadResource)) throw error;
      }
    }
  }

  #removeSocketFile(): void {
    if (this.#unixPath === null) return;
    try {
      Deno.removeSync(this.#unixPath);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }

  /**
   * Stops: closes the listeners, answers the requests in flight, closes every connection
   * (handshakes are cut short) and removes the unix socket file.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#closeListeners();
    await Promise.all(this.#acceptLoops);
    for (const connection of this.#connections) {
      if (connection.transmission !== null) connection.transmission.stop();
      else connection.conn.close();
    }
    await Promise.all([...this.#connections].map((connection) => connection.done));
    this.#removeSocketFile();
  }
}

/** True when something accepts connections on the unix socket `path`. */
async function isListening(path: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return true;
  } catch (error) {
    if (
      error instanceof Deno.errors.ConnectionRefused || error instanceof Deno.errors.NotFound
    ) {
      return false;
    }
    throw error;
  }
}
