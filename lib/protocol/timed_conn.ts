/**
 * A {@link Conn} with the original's per-call socket timeouts (SO_RCVTIMEO / SO_SNDTIMEO,
 * protocol-and-servers.md §1.7), measured on an injected {@link Clock}.
 *
 * A read that times out stays pending underneath and is resumed by the next read, so a
 * caller may retry after a timeout as the dirty-hash-sync control bytes do. A write that
 * times out leaves an unknown number of bytes sent, so the connection is then broken and
 * every later call fails with the same error.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import { ProtocolError } from "../errors.ts";
import type { ByteSink, ByteSource } from "../io/stream.ts";
import { LIMITS } from "../limits.ts";
import type { Conn } from "./conn.ts";
import { ProtocolTimeoutError } from "./errors.ts";

/** Options of {@link TimedConn}. */
export interface TimedConnOptions {
  clock: Clock;
  /** Per-call timeout; 0 or absent = none (the servers' keep-alive mode). */
  timeoutMs?: number;
}

/** Timeout-bounded reads and writes over a {@link Conn}. */
export class TimedConn implements ByteSource, ByteSink {
  readonly #conn: Conn;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #scratch = new Uint8Array(LIMITS.protocolReadChunkSize);
  #leftover: Uint8Array = new Uint8Array(0);
  #pendingRead: Promise<number | null> | undefined;
  /** Where the pending read puts its bytes: the scratch, or a {@link readDirect} target. */
  #pendingTarget: Uint8Array = this.#scratch;
  #broken: Error | undefined;
  #closed = false;

  constructor(conn: Conn, options: TimedConnOptions) {
    this.#conn = conn;
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutMs ?? 0;
  }

  /** The per-call timeout in ms (0 = none). */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /**
   * Reads up to `p.length` bytes; null at end of stream.
   *
   * @throws {ProtocolTimeoutError} when nothing arrives within the timeout (retry allowed)
   * @throws {ProtocolError} when the connection fails
   */
  async read(p: Uint8Array): Promise<number | null> {
    if (this.#broken !== undefined) throw this.#broken;
    if (p.length === 0) return 0;
    if (this.#leftover.length === 0) {
      const count = await this.#receive(this.#scratch);
      if (count === null) return null;
    }
    const n = Math.min(p.length, this.#leftover.length);
    p.set(this.#leftover.subarray(0, n));
    this.#leftover = this.#leftover.subarray(n);
    return n;
  }

  /**
   * {@link read} into `p` without the copy through the scratch buffer when nothing is
   * buffered: for large payloads. `p` must be a buffer only the caller holds, which it
   * abandons if the call times out (the read stays pending into `p`, and the next call
   * takes its bytes from there).
   *
   * @throws {ProtocolTimeoutError} when nothing arrives within the timeout (retry allowed)
   * @throws {ProtocolError} when the connection fails
   */
  async readDirect(p: Uint8Array): Promise<number | null> {
    if (this.#broken !== undefined) throw this.#broken;
    if (p.length === 0) return 0;
    if (this.#leftover.length > 0 || this.#pendingRead !== undefined) return await this.read(p);
    const count = await this.#receive(p);
    if (count === null) return null;
    this.#leftover = new Uint8Array(0);
    return count;
  }

  /**
   * Waits for the pending read, or starts one into `target`; the bytes are then in
   * `#leftover` (a view of where they landed).
   */
  async #receive(target: Uint8Array): Promise<number | null> {
    if (this.#pendingRead === undefined) {
      const reading = this.#conn.read(target);
      reading.catch(() => {}); // observed below or abandoned by close()
      this.#pendingRead = reading;
      this.#pendingTarget = target;
    }
    let count: number | null;
    try {
      count = await this.#bounded(this.#pendingRead, "read");
    } catch (error) {
      if (error instanceof ProtocolTimeoutError) throw error;
      this.#pendingRead = undefined;
      throw this.#fail("read from", error);
    }
    this.#pendingRead = undefined;
    if (count === null) return null;
    this.#leftover = this.#pendingTarget.subarray(0, count);
    return count;
  }

  /**
   * Writes some bytes of `p`.
   *
   * @throws {ProtocolTimeoutError} when the peer does not take bytes within the timeout
   * @throws {ProtocolError} when the connection fails
   */
  async write(p: Uint8Array): Promise<number> {
    if (this.#broken !== undefined) throw this.#broken;
    const writing = this.#conn.write(p);
    writing.catch(() => {});
    try {
      return await this.#bounded(writing, "write");
    } catch (error) {
      if (error instanceof ProtocolTimeoutError) {
        this.#broken = error;
        throw error;
      }
      throw this.#fail("write to", error);
    }
  }

  /** Shuts down the write side (FIN). */
  async closeWrite(): Promise<void> {
    if (this.#broken !== undefined) throw this.#broken;
    try {
      await this.#conn.closeWrite();
    } catch (error) {
      throw this.#fail("shut down", error);
    }
  }

  /** Closes the connection; idempotent, never throws. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#broken ??= new ProtocolError("Cannot use the connection: it is closed");
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer side of a test pipe or the runtime: nothing to release.
    }
  }

  #fail(action: string, error: unknown): ProtocolError {
    if (error instanceof ProtocolError) return error;
    const detail = error instanceof Error ? error.message : String(error);
    return new ProtocolError(`Cannot ${action} the connection: ${detail}`, { cause: error });
  }

  async #bounded<T>(operation: Promise<T>, kind: "read" | "write"): Promise<T> {
    if (this.#timeoutMs <= 0) return await operation;
    const controller = new AbortController();
    const timeoutMs = this.#timeoutMs;
    const timer = this.#clock.sleep(timeoutMs, controller.signal).then(
      (): never => {
        throw new ProtocolTimeoutError(kind, timeoutMs);
      },
      () => undefined as never, // aborted: the operation settled first
    );
    try {
      return await Promise.race([operation, timer]);
    } finally {
      controller.abort();
    }
  }
}
