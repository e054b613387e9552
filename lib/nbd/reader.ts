/**
 * Buffered reader for the server side of an NBD connection: large socket reads that batch
 * many small requests, exact-length views for headers, and direct reads into payload buffers.
 *
 * @module
 */
import { assert, CorruptDataError } from "../errors.ts";
import type { ByteSource } from "../io/stream.ts";
import { NBD_LIMITS } from "./limits.ts";

/**
 * Reads exact lengths from a byte source through one fixed buffer.
 *
 * @example
 * ```ts
 * import { MemorySource } from "../io/stream.ts";
 * import { NbdReader } from "./reader.ts";
 * const reader = new NbdReader(new MemorySource(Uint8Array.of(1, 2, 3, 4)), 16);
 * const head = await reader.readExact(1, "head");
 * const rest = new Uint8Array(3);
 * await reader.readInto(rest, "rest");
 * if (head?.[0] !== 1 || rest[2] !== 4) throw new Error("wrong");
 * ```
 */
export class NbdReader {
  #source: ByteSource;
  #buffer: Uint8Array;
  #start = 0;
  #end = 0;
  #eof = false;
  /** Bytes consumed so far. */
  position = 0;

  constructor(source: ByteSource, bufferSize: number = NBD_LIMITS.readBufferSize) {
    this.#source = source;
    this.#buffer = new Uint8Array(bufferSize);
  }

  /** Reads from the source into the free tail of the buffer; false at EOF. */
  async #readMore(): Promise<boolean> {
    if (this.#eof) return false;
    if (this.#start === this.#end) {
      this.#start = 0;
      this.#end = 0;
    } else if (this.#end === this.#buffer.length) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    const count = await this.#source.read(this.#buffer.subarray(this.#end));
    if (count === null || count === 0) {
      this.#eof = true;
      return false;
    }
    this.#end += count;
    return true;
  }

  /**
   * Reads exactly `n` bytes (at most the buffer size). Returns null at a clean EOF.
   * The view is valid until the next call; copy it to keep it.
   *
   * @throws {CorruptDataError} when the stream ends inside the `n` bytes
   */
  async readExact(n: number, what: string): Promise<Uint8Array | null> {
    assert(n <= this.#buffer.length, "readExact length fits the buffer");
    if (this.#start + n > this.#buffer.length) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    while (this.#end - this.#start < n) {
      if (!(await this.#readMore())) {
        const available = this.#end - this.#start;
        if (available === 0) return null;
        throw new CorruptDataError(
          what,
          this.position,
          `stream ends after ${available} of ${n} bytes`,
        );
      }
    }
    const view = this.#buffer.subarray(this.#start, this.#start + n);
    this.#start += n;
    this.position += n;
    return view;
  }

  /** Bytes read from the source and not yet consumed. */
  get bufferedBytes(): number {
    return this.#end - this.#start;
  }

  /**
   * Takes `n` bytes when they are already buffered (no waiting), else returns null and
   * consumes nothing. The view is valid until the next call; copy it to keep it.
   */
  takeBuffered(n: number): Uint8Array | null {
    if (this.#end - this.#start < n) return null;
    const view = this.#buffer.subarray(this.#start, this.#start + n);
    this.#start += n;
    this.position += n;
    return view;
  }

  /**
   * Like {@link readExact}, but EOF before any byte is also an error.
   *
   * @throws {CorruptDataError} when the stream ends first
   */
  async readRequired(n: number, what: string): Promise<Uint8Array> {
    const bytes = await this.readExact(n, what);
    if (bytes === null) {
      throw new CorruptDataError(what, this.position, `stream ends, ${n} bytes expected`);
    }
    return bytes;
  }

  /**
   * Fills all of `target`: buffered bytes first, then reads straight into `target` when the
   * rest is large, so big payloads are copied once.
   *
   * @throws {CorruptDataError} when the stream ends first
   */
  async readInto(target: Uint8Array, what: string): Promise<void> {
    let filled = 0;
    const startPosition = this.position;
    while (filled < target.length) {
      const buffered = this.#end - this.#start;
      if (buffered > 0) {
        const count = Math.min(buffered, target.length - filled);
        target.set(this.#buffer.subarray(this.#start, this.#start + count), filled);
        this.#start += count;
        filled += count;
        continue;
      }
      const rest = target.length - filled;
      if (rest >= this.#buffer.length / 4 && !this.#eof) {
        const count = await this.#source.read(target.subarray(filled));
        if (count === null || count === 0) this.#eof = true;
        else filled += count;
      } else {
        await this.#readMore();
      }
      if (this.#eof && this.#end === this.#start && filled < target.length) {
        this.position = startPosition + filled;
        throw new CorruptDataError(
          what,
          startPosition,
          `stream ends after ${filled} of ${target.length} bytes`,
        );
      }
    }
    this.position = startPosition + filled;
  }

  /**
   * Reads and drops `n` bytes without allocating.
   *
   * @throws {CorruptDataError} when the stream ends first
   */
  async skip(n: number, what: string): Promise<void> {
    let left = n;
    while (left > 0) {
      const buffered = this.#end - this.#start;
      if (buffered === 0 && !(await this.#readMore())) {
        throw new CorruptDataError(what, this.position, `stream ends, ${left} bytes to skip`);
      }
      const count = Math.min(left, this.#end - this.#start);
      this.#start += count;
      this.position += count;
      left -= count;
    }
  }
}
