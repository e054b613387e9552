/**
 * Sequential image writes gathered into large page-aligned buffers: a full sync receives
 * 256 KiB bulks (the storage's default `-bulk`), and one 4 MiB write per 16 of them costs a
 * sixteenth of the system calls and thread hand-offs; an `O_DIRECT` image writes each buffer
 * in place (no bounce copy). The buffers are reused once their write completes.
 *
 * @module
 */
import { alignedBytes } from "../../../ffi/libc.ts";
import type { BlockDevice } from "../../device/block/mod.ts";
import { assert } from "../../errors.ts";

/** Appends contiguous ranges and writes them to a device in large writes, several in flight. */
export class CoalescingWriter {
  #free: Uint8Array[] = [];
  #current: Uint8Array | undefined;
  /** Image offset of `#current`'s first byte, and how much of it is filled. */
  #start = 0;
  #filled = 0;
  #writes: Promise<void>[] = [];
  #reserved: Uint8Array | undefined;

  /**
   * @param device the image
   * @param bufferBytes bytes per write (a multiple of the device's alignment)
   * @param writesInFlightMax writes kept in flight before {@link append} waits for the oldest
   */
  constructor(
    readonly device: BlockDevice,
    readonly bufferBytes: number,
    readonly writesInFlightMax: number,
  ) {}

  /**
   * Where the range at `offsetBytes` (following the previous one) would lie in the current
   * buffer, so that a decoder can write it there; undefined when it does not fit in the
   * current buffer (then {@link append} copies it). Pass the view to {@link append} as `data`:
   * it is then taken without a copy. Only the latest view stays valid.
   */
  reserve(offsetBytes: number, lengthBytes: number): Uint8Array | undefined {
    if (this.#current === undefined) {
      if (lengthBytes > this.bufferBytes) return undefined;
      this.#current = this.#free.pop() ?? alignedBytes(this.bufferBytes);
      this.#start = offsetBytes;
      this.#filled = 0;
    }
    if (offsetBytes !== this.#start + this.#filled) return undefined;
    if (this.#filled + lengthBytes > this.bufferBytes) return undefined;
    this.#reserved = this.#current.subarray(this.#filled, this.#filled + lengthBytes);
    return this.#reserved;
  }

  /**
   * Copies `data` (undefined: `lengthBytes` zeroes) to image offset `offsetBytes`, which must
   * follow the previous range; writes the buffer once it is full. `data` may be the view
   * {@link reserve} returned for this range: it is already in place.
   *
   * @returns whether `data` was copied (false: it is the writer's own reserved view, which the
   *   caller must neither keep nor release)
   */
  async append(
    offsetBytes: number,
    lengthBytes: number,
    data: Uint8Array | undefined,
  ): Promise<boolean> {
    assert(data === undefined || data.length === lengthBytes, "appended data length");
    const reserved = this.#reserved;
    this.#reserved = undefined;
    if (data !== undefined && data === reserved) {
      assert(offsetBytes === this.#start + this.#filled, "reserved range follows the previous");
      this.#filled += lengthBytes;
      if (this.#filled === this.bufferBytes) await this.#writeCurrent();
      return false;
    }
    if (this.#current !== undefined && offsetBytes !== this.#start + this.#filled) {
      await this.#writeCurrent(); // not contiguous: the next buffer starts here
    }
    for (let done = 0; done < lengthBytes;) {
      if (this.#current === undefined) {
        this.#current = this.#free.pop() ?? alignedBytes(this.bufferBytes);
        this.#start = offsetBytes + done;
        this.#filled = 0;
      }
      const count = Math.min(lengthBytes - done, this.bufferBytes - this.#filled);
      if (data === undefined) this.#current.fill(0, this.#filled, this.#filled + count);
      else this.#current.set(data.subarray(done, done + count), this.#filled);
      this.#filled += count;
      done += count;
      if (this.#filled === this.bufferBytes) await this.#writeCurrent();
    }
    return true;
  }

  /** Writes what is buffered and waits for every write: then all appended bytes are written. */
  async drain(): Promise<void> {
    if (this.#current !== undefined && this.#filled > 0) await this.#writeCurrent();
    while (this.#writes.length > 0) await this.#writes.shift();
  }

  /** Waits for the writes in flight, ignoring their errors (after a failure, before closing). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.#writes);
    this.#writes = [];
  }

  async #writeCurrent(): Promise<void> {
    const buffer = this.#current!;
    const view = buffer.subarray(0, this.#filled);
    this.#current = undefined;
    const write = (this.device.writeGather?.(this.#start, [view]) ??
      this.device.write(this.#start, view))
      .then(() => void this.#free.push(buffer));
    write.catch(() => {}); // awaited in turn below, by drain() or settle()
    this.#writes.push(write);
    if (this.#writes.length >= this.writesInFlightMax) await this.#writes.shift();
  }
}
