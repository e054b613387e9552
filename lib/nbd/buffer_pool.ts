/**
 * Reuse of same-sized byte buffers (NBD read replies): a fresh 1 MiB Uint8Array costs a zeroed
 * allocation, page faults and later garbage collection; a reused one costs nothing.
 *
 * @module
 */
import { assert } from "../errors.ts";

/**
 * Free buffers by exact size, at most `bytesMax` bytes kept. A taken buffer holds stale bytes:
 * the caller overwrites all of it.
 *
 * @example
 * ```ts
 * import { BufferPool } from "./buffer_pool.ts";
 * const pool = new BufferPool(1 << 20);
 * const buffer = pool.take(4096);
 * pool.give(buffer);
 * if (pool.take(4096) !== buffer) throw new Error("not reused");
 * ```
 */
export class BufferPool {
  #free = new Map<number, Uint8Array[]>();
  #bytes = 0;

  constructor(readonly bytesMax: number) {
    assert(bytesMax >= 0, "pool size is not negative");
  }

  /** Bytes held by free buffers. */
  get bytes(): number {
    return this.#bytes;
  }

  /** A buffer of `sizeBytes`: a free one when there is one, else a new one. */
  take(sizeBytes: number): Uint8Array {
    const buffer = this.#free.get(sizeBytes)?.pop();
    if (buffer === undefined) return new Uint8Array(sizeBytes);
    this.#bytes -= sizeBytes;
    return buffer;
  }

  /** Returns a whole buffer (not a view) nobody uses any more; dropped when the pool is full. */
  give(buffer: Uint8Array): void {
    assert(buffer.byteOffset === 0, "only whole buffers are pooled");
    assert(buffer.byteLength === buffer.buffer.byteLength, "only whole buffers are pooled");
    if (this.#bytes + buffer.length > this.bytesMax) return;
    const list = this.#free.get(buffer.length);
    if (list === undefined) this.#free.set(buffer.length, [buffer]);
    else list.push(buffer);
    this.#bytes += buffer.length;
  }
}
