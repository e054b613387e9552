/**
 * Pack payload buffers of a streaming merge's inputs, reused once the output has passed them.
 * Why: each input pack used to be read into a fresh array, which V8 zeroes and the kernel
 * faults in page by page (352 MB for the issue #3 merge), and which waited for a collection
 * or a detach to be freed. The merge writes in address order, so once the output holds every
 * record ending at or before a pack's last address, no piece of that pack is still unwritten
 * (the written pieces were copied into output packs): its buffer can take the next pack.
 *
 * @module
 */
import { assert } from "../../errors.ts";

/** Capacity granule of pooled buffers: payloads of similar size share buffers. */
const POOL_GRANULE_SIZE = 1024 * 1024;

/**
 * Bytes of idle buffers the pool keeps (more are detached, i.e. freed now). A merge holds
 * about one pack (up to 32 MiB, usually a few MiB) per input; 64 MiB keeps the buffers of a
 * few such sets without raising the peak RSS much above that of the live packs.
 */
const POOL_IDLE_SIZE_MAX = 64 * 1024 * 1024;

/** What the merge inputs need from a payload holder (also met by `PackPayloadRelease`). */
export interface PayloadHolder {
  /** Registers the payload of a pack just read and the end [lb] of its last record. */
  add(payload: Uint8Array, endLb: number): void;
  /** Gives back every registered payload whose records all end at or before `writtenEndLb`. */
  releaseThrough(writtenEndLb: number): void;
  /** An array of exactly `size` bytes to read a payload into, if the holder pools them. */
  take?(size: number): Uint8Array;
}

/**
 * Pooled pack payloads: {@link take} for the reader (`allocatePayload`), {@link add} when the
 * pack's records are known, {@link releaseThrough} as the output is written.
 *
 * @example
 * ```ts
 * import { PayloadPool } from "./merge_payload_pool.ts";
 * const pool = new PayloadPool();
 * const first = pool.take(4096);
 * pool.add(first, 100);
 * pool.releaseThrough(100);
 * const second = pool.take(8192);
 * if (second.buffer !== first.buffer) throw new Error("not reused");
 * ```
 */
export class PayloadPool implements PayloadHolder {
  #waiting: { endLb: number; payload: Uint8Array }[] = [];
  #idle: ArrayBuffer[] = [];
  #idleSize = 0;

  /**
   * An array of exactly `size` bytes (contents undefined) in a pooled or new buffer.
   *
   * @param size payload size [bytes]
   */
  take(size: number): Uint8Array<ArrayBuffer> {
    assert(Number.isSafeInteger(size) && size >= 0, "payload size must be >= 0");
    // Defensive: a buffer detached after it was given back is dropped, not handed out.
    this.#idle = this.#idle.filter((buffer) => !buffer.detached);
    this.#idleSize = this.#idle.reduce((sum, buffer) => sum + buffer.byteLength, 0);
    let best = -1;
    for (let i = 0; i < this.#idle.length; i++) {
      const capacity = this.#idle[i]!.byteLength;
      if (capacity >= size && (best < 0 || capacity < this.#idle[best]!.byteLength)) best = i;
    }
    if (best >= 0) {
      const buffer = this.#idle[best]!;
      this.#idle.splice(best, 1);
      this.#idleSize -= buffer.byteLength;
      return new Uint8Array(buffer, 0, size);
    }
    const capacity = Math.max(1, Math.ceil(size / POOL_GRANULE_SIZE)) * POOL_GRANULE_SIZE;
    return new Uint8Array(new ArrayBuffer(capacity), 0, size);
  }

  /** Registers the payload of a pack just read (from {@link take}) and its last record's end. */
  add(payload: Uint8Array, endLb: number): void {
    this.#waiting.push({ endLb, payload });
  }

  /** Returns every registered payload whose records all end at or before `writtenEndLb`. */
  releaseThrough(writtenEndLb: number): void {
    const kept: { endLb: number; payload: Uint8Array }[] = [];
    for (const entry of this.#waiting) {
      if (entry.endLb <= writtenEndLb) this.#giveBack(entry.payload.buffer);
      else kept.push(entry);
    }
    this.#waiting = kept;
  }

  /** Number of payloads still registered. */
  get size(): number {
    return this.#waiting.length;
  }

  #giveBack(buffer: ArrayBufferLike): void {
    // A record that owned a whole buffer may have detached it (LazyDataRecord.releaseData).
    if (!(buffer instanceof ArrayBuffer) || buffer.detached || buffer.resizable) return;
    if (this.#idle.includes(buffer)) return;
    if (this.#idleSize + buffer.byteLength > POOL_IDLE_SIZE_MAX) {
      buffer.transfer(0); // freed now rather than at a collection
      return;
    }
    this.#idle.push(buffer);
    this.#idleSize += buffer.byteLength;
  }
}
