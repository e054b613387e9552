/**
 * The network every server and client takes as a parameter (never `Deno.listen` directly), so
 * tests and the simulator can run whole clusters in memory (`lib/testing/net.ts`). Only this
 * file and `lib/testing/` touch sockets.
 *
 * @module
 */
import type { Clock } from "./clock.ts";
import type { Conn } from "./protocol/conn.ts";
import { UsageError } from "./errors.ts";

/** A TCP endpoint or a Unix socket path. */
export type NetAddr = { hostname: string; port: number } | { path: string };

/** Text form of an address: `host:port` (the original's formatting) or the path. */
export function formatNetAddr(addr: NetAddr): string {
  return "path" in addr ? addr.path : `${addr.hostname}:${addr.port}`;
}

/**
 * Splits `host:port` at the **first** colon (protocol-and-servers.md §1.1), port 1..65535.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./net.ts";
 * const addr = parseHostPort("192.0.2.1:10000");
 * if (addr.hostname !== "192.0.2.1" || addr.port !== 10000) throw new Error();
 * ```
 * @throws {UsageError} without a colon, with an empty host or a bad port
 */
export function parseHostPort(text: string): { hostname: string; port: number } {
  const index = text.indexOf(":");
  if (index <= 0) throw new UsageError(`parseHostPort:bad address:${text}`);
  const portText = text.slice(index + 1);
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new UsageError(`parseHostPort:bad port:${text}`);
  return { hostname: text.slice(0, index), port };
}

/** A listening endpoint: an async iterable of accepted connections. */
export interface Listener extends AsyncIterable<Conn> {
  /** The bound address (with the real port when 0 was asked). */
  readonly addr: NetAddr;
  /** Waits for the next connection; null once the listener is closed. */
  accept(): Promise<Conn | null>;
  /** Stops listening; a pending accept resolves to null. Idempotent. */
  close(): void;
}

/** Options of {@link Net.connect}. */
export interface ConnectOptions {
  /** Connect timeout in ms; 0 or absent = none. */
  timeoutMs?: number;
}

/** Raised when a connect does not complete within its timeout. */
export class ConnectTimeoutError extends Error {
  constructor(readonly addr: string, readonly timeoutMs: number) {
    super(`Cannot connect to ${addr}: no answer within ${timeoutMs} ms`);
    this.name = "ConnectTimeoutError";
  }
}

/** A network: listen and connect. */
export interface Net {
  listen(addr: NetAddr): Listener;
  connect(addr: NetAddr, options?: ConnectOptions): Promise<Conn>;
}

/** Socket options applied to every connection of a {@link DenoNet}. */
export interface DenoNetOptions {
  clock: Clock;
  /** Enable TCP keep-alive on accepted and opened sockets (`-ka`). */
  keepAlive?: boolean;
}

class DenoListener implements Listener {
  #listener: Deno.Listener;
  #closed = false;
  #keepAlive: boolean;

  constructor(listener: Deno.Listener, keepAlive: boolean) {
    this.#listener = listener;
    this.#keepAlive = keepAlive;
  }

  get addr(): NetAddr {
    const addr = this.#listener.addr;
    if (addr.transport === "unix" || addr.transport === "unixpacket") return { path: addr.path };
    return { hostname: (addr as Deno.NetAddr).hostname, port: (addr as Deno.NetAddr).port };
  }

  async accept(): Promise<Conn | null> {
    if (this.#closed) return null;
    try {
      const conn = await this.#listener.accept();
      return configureTcp(conn, this.#keepAlive);
    } catch (error) {
      if (this.#closed && error instanceof Deno.errors.BadResource) return null;
      if (this.#closed && error instanceof Deno.errors.Interrupted) return null;
      throw error;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Conn> {
    for (;;) {
      const conn = await this.accept();
      if (conn === null) return;
      yield conn;
    }
  }
}

/**
 * The real network over `Deno.listen` / `Deno.connect`. Listening on `::` accepts IPv4 too
 * (dual-stack, as the original's IPv6 socket).
 *
 * @example
 * ```ts
 * import { DenoNet } from "./net.ts";
 * import { realClock } from "./clock.ts";
 * const net = new DenoNet({ clock: realClock });
 * const listener = net.listen({ hostname: "127.0.0.1", port: 0 });
 * const accepted = listener.accept();
 * const client = await net.connect(listener.addr, { timeoutMs: 1000 });
 * (await accepted)?.close();
 * client.close();
 * listener.close();
 * ```
 */
export class DenoNet implements Net {
  #clock: Clock;
  #keepAlive: boolean;

  constructor(options: DenoNetOptions) {
    this.#clock = options.clock;
    this.#keepAlive = options.keepAlive ?? false;
  }

  listen(addr: NetAddr): Listener {
    const listener = "path" in addr
      ? Deno.listen({ transport: "unix", path: addr.path })
      : Deno.listen({ hostname: addr.hostname, port: addr.port, transport: "tcp" });
    return new DenoListener(listener, this.#keepAlive);
  }

  async connect(addr: NetAddr, options: ConnectOptions = {}): Promise<Conn> {
    const connecting: Promise<Deno.Conn> = "path" in addr
      ? Deno.connect({ transport: "unix", path: addr.path })
      : Deno.connect({ hostname: addr.hostname, port: addr.port, transport: "tcp" });
    const timeoutMs = options.timeoutMs ?? 0;
    if (timeoutMs <= 0) return this.#configure(await connecting);
    const abort = new AbortController();
    const timer = this.#clock.sleep(timeoutMs, abort.signal).then(() => "timeout" as const);
    timer.catch(() => {});
    try {
      const winner = await Promise.race([connecting, timer]);
      if (winner === "timeout") {
        connecting.then((late) => late.close(), () => {});
        throw new ConnectTimeoutError(formatNetAddr(addr), timeoutMs);
      }
      return this.#configure(winner);
    } finally {
      abort.abort();
    }
  }

  #configure(conn: Deno.Conn): Conn {
    return configureTcp(conn, this.#keepAlive);
  }
}

/** Sets TCP_NODELAY (we flush whole replies) and keep-alive on TCP sockets. */
function configureTcp(conn: Deno.Conn, keepAlive: boolean): Deno.Conn {
  if (conn.remoteAddr.transport !== "tcp") return conn;
  const tcp = conn as Deno.TcpConn;
  tcp.setNoDelay(true);
  if (keepAlive) tcp.setKeepAlive(true);
  return conn;
}
