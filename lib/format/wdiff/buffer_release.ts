/**
 * Releasing record data buffers as soon as nothing holds them. Why: a JavaScript
 * `ArrayBuffer` is freed only when V8's garbage collector finds it unreachable, and the
 * collector runs late when most memory is outside its heap; the sorted wlog conversion holds
 * the whole diff, and its peak RSS rose ~60–90 MiB over the live data waiting for collections.
 * `ArrayBuffer.prototype.transfer(0)` detaches a buffer and frees its backing store at once.
 * Only code that owns the buffers (nobody else holds a view) may release them.
 *
 * @module
 */
import { assert } from "../../errors.ts";

/**
 * Counts holders per buffer; {@link release} detaches a buffer when its count drops to zero.
 *
 * @example
 * ```ts
 * import { BufferHolders } from "./buffer_release.ts";
 * const bytes = new Uint8Array(1024);
 * const holders = new BufferHolders();
 * holders.hold(bytes.subarray(0, 512));
 * holders.hold(bytes.subarray(512));
 * holders.release(bytes.subarray(0, 512));
 * if (bytes.buffer.detached) throw new Error("still held");
 * holders.release(bytes.subarray(512));
 * if (!bytes.buffer.detached) throw new Error("not released");
 * ```
 */
export class BufferHolders {
  #counts = new Map<ArrayBufferLike, number>();

  /** Counts one more holder of `data`'s buffer. */
  hold(data: Uint8Array): void {
    this.#counts.set(data.buffer, (this.#counts.get(data.buffer) ?? 0) + 1);
  }

  /**
   * Counts one holder less of `data`'s buffer; detaches the buffer when none is left.
   *
   * @param data a view given to {@link hold} before
   * @param detach false to only count (the buffer changes owner)
   */
  release(data: Uint8Array, detach = true): void {
    const buffer = data.buffer;
    const count = (this.#counts.get(buffer) ?? 0) - 1;
    assert(count >= 0, "data buffer released more often than held");
    if (count > 0) {
      this.#counts.set(buffer, count);
      return;
    }
    this.#counts.delete(buffer);
    if (detach && buffer instanceof ArrayBuffer && !buffer.detached) buffer.transfer(0);
  }

  /** True when some holder of `buffer` is counted. */
  isHeld(buffer: ArrayBufferLike): boolean {
    return this.#counts.has(buffer);
  }

  /** Forgets every count (nothing is detached). */
  clear(): void {
    this.#counts.clear();
  }
}

/**
 * Detaches the buffer of `view` now, when the view is its sole, whole view (a fresh copy its
 * caller owns); otherwise does nothing. Why: a dropped copy is freed only by V8's next
 * collection, which waits for tens of MiB of such external memory; the sorted conversion's
 * peak RSS carried the copies of padding and all-zero IOs that way.
 *
 * @param view a view its caller owns and nobody else uses
 * @example
 * ```ts
 * import { releaseWholeBuffer } from "./buffer_release.ts";
 * const bytes = new Uint8Array(1024);
 * releaseWholeBuffer(bytes.subarray(0, 512)); // a part: kept
 * if (bytes.buffer.detached) throw new Error("released a part");
 * releaseWholeBuffer(bytes);
 * if (!bytes.buffer.detached) throw new Error("not released");
 * ```
 */
export function releaseWholeBuffer(view: Uint8Array): void {
  const buffer = view.buffer;
  if (!(buffer instanceof ArrayBuffer) || buffer.detached || buffer.resizable) return;
  if (view.byteOffset !== 0 || view.byteLength !== buffer.byteLength) return;
  buffer.transfer(0);
}

/**
 * Frees the payloads of input packs once a streaming merge has written every record below
 * their last address. Why: a merge reads 352 MB of pack payloads for the issue #3 workload, and
 * as garbage they waited for V8's collections (which let tens of MiB of external memory pile
 * up): the lzma:0:2 merge peaked at 270–308 MiB. The merge and its writer work in address order,
 * so once the output holds every record ending at or before a pack's last end, no surviving
 * piece of that pack is still unwritten; the pieces written were copied into output packs.
 *
 * @example
 * ```ts
 * import { PackPayloadRelease } from "./buffer_release.ts";
 * const release = new PackPayloadRelease();
 * const payload = new Uint8Array(4096);
 * release.add(payload, 100);
 * release.releaseThrough(99);
 * if (payload.buffer.detached) throw new Error("too early");
 * release.releaseThrough(100);
 * if (!payload.buffer.detached) throw new Error("not released");
 * ```
 */
export class PackPayloadRelease {
  #waiting: { endLb: number; payload: Uint8Array }[] = [];

  /**
   * Registers the payload of a pack just read (its own array, see
   * `SortedWdiffReader.readPackPayload`) and the end of its last record.
   */
  add(payload: Uint8Array, endLb: number): void {
    this.#waiting.push({ endLb, payload });
  }

  /** Frees every registered payload whose records all end at or before `writtenEndLb`. */
  releaseThrough(writtenEndLb: number): void {
    const kept: { endLb: number; payload: Uint8Array }[] = [];
    for (const entry of this.#waiting) {
      if (entry.endLb <= writtenEndLb) releaseWholeBuffer(entry.payload);
      else kept.push(entry);
    }
    this.#waiting = kept;
  }

  /** Number of payloads still registered. */
  get size(): number {
    return this.#waiting.length;
  }
}
