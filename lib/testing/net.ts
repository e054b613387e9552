/**
 * An in-memory {@link Net}: named addresses, connections made of `netPipe` pairs. Used by
 * server unit tests and the simulator.
 *
 * Fault hooks: {@link MemoryNet.refuse} makes connects to an address fail (ECONNREFUSED), and
 * {@link MemoryNet.resetAll} resets every open connection to it (both ends see an error/EOF).
 * TODO(sim): delay, reorder and drop of bytes inside an open connection and partitions between
 * node groups are not implemented yet; `tests/sim/` will add them here (this is the only place
 * that needs to change: servers only see the `Net` interface).
 *
 * @module
 */
import type { ConnectOptions, Listener, Net, NetAddr } from "../net.ts";
import { formatNetAddr } from "../net.ts";
import type { Conn } from "../protocol/conn.ts";
import { netPipe, type NetPipeOptions, type PipeEnd } from "./net_pipe.ts";

class MemoryListener implements Listener {
  #queue: Conn[] = [];
  #waiting: ((conn: Conn | null) => void)[] = [];
  #closed = false;

  constructor(readonly addr: NetAddr, readonly onClose: () => void) {}

  get isClosed(): boolean {
    return this.#closed;
  }

  deliver(conn: Conn): void {
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter(conn);
    else this.#queue.push(conn);
  }

  accept(): Promise<Conn | null> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of this.#waiting.splice(0)) waiter(null);
    for (const conn of this.#queue.splice(0)) conn.close();
    this.onClose();
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
 * In-memory network.
 *
 * @example
 * ```ts
 * import { MemoryNet } from "./net.ts";
 * const net = new MemoryNet();
 * const listener = net.listen({ hostname: "archive0", port: 5000 });
 * const client = await net.connect({ hostname: "archive0", port: 5000 });
 * const server = (await listener.accept())!;
 * await client.write(Uint8Array.of(7));
 * const p = new Uint8Array(1);
 * if (await server.read(p) !== 1 || p[0] !== 7) throw new Error("wrong");
 * client.close();
 * server.close();
 * listener.close();
 * ```
 */
export class MemoryNet implements Net {
  #listeners = new Map<string, MemoryListener>();
  #refused = new Set<string>();
  #open = new Map<string, PipeEnd[]>();
  #nextPort = 40000;
  #pipeOptions: NetPipeOptions;

  constructor(options: NetPipeOptions = {}) {
    this.#pipeOptions = options;
  }

  listen(addr: NetAddr): Listener {
    let bound = addr;
    if (!("path" in addr) && addr.port === 0) bound = { ...addr, port: this.#nextPort++ };
    const key = formatNetAddr(bound);
    if (this.#listeners.has(key)) throw new Deno.errors.AddrInUse(`address in use: ${key}`);
    const listener = new MemoryListener(bound, () => this.#listeners.delete(key));
    this.#listeners.set(key, listener);
    return listener;
  }

  connect(addr: NetAddr, _options: ConnectOptions = {}): Promise<Conn> {
    const key = formatNetAddr(addr);
    const listener = this.#listeners.get(key);
    if (listener === undefined || listener.isClosed || this.#refused.has(key)) {
      return Promise.reject(new Deno.errors.ConnectionRefused(`connection refused: ${key}`));
    }
    const [client, server] = netPipe(this.#pipeOptions);
    const open = this.#open.get(key) ?? [];
    open.push(client, server);
    this.#open.set(key, open.filter((end) => !end.isClosed));
    listener.deliver(server);
    return Promise.resolve(client);
  }

  /** Fault hook: refuse (true) or allow again (false) connects to `addr`. */
  refuse(addr: NetAddr, refused = true): void {
    const key = formatNetAddr(addr);
    if (refused) this.#refused.add(key);
    else this.#refused.delete(key);
  }

  /** Fault hook: closes both ends of every open connection to `addr` (a reset). */
  resetAll(addr: NetAddr): void {
    const key = formatNetAddr(addr);
    for (const end of this.#open.get(key) ?? []) if (!end.isClosed) end.close();
    this.#open.delete(key);
  }
}
