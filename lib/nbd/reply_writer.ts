/**
 * Serializes replies of concurrent requests onto one byte sink. Each reply goes out whole
 * (never interleaved); replies that pile up during a write are coalesced into one write.
 *
 * @module
 */
import { type ByteSink, writeAll } from "../io/stream.ts";
import { NBD_LIMITS } from "./limits.ts";

interface Pending {
  bytes: Uint8Array;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Queue of whole replies in front of a sink.
 *
 * @example
 * ```ts
 * import { MemorySink } from "../io/stream.ts";
 * import { ReplyWriter } from "./reply_writer.ts";
 * const sink = new MemorySink();
 * const writer = new ReplyWriter(sink);
 * await Promise.all([writer.send(Uint8Array.of(1)), writer.send(Uint8Array.of(2))]);
 * if (sink.bytes().length !== 2) throw new Error("lost a reply");
 * ```
 */
export class ReplyWriter {
  #sink: ByteSink;
  #queue: Pending[] = [];
  #writing = false;
  #failure: { error: unknown } | null = null;
  #coalesce: Uint8Array;

  constructor(sink: ByteSink, coalesceSizeMax: number = NBD_LIMITS.replyCoalesceSizeMax) {
    this.#sink = sink;
    this.#coalesce = new Uint8Array(coalesceSizeMax);
  }

  /** True once a write failed (the peer is gone); later sends reject at once. */
  get failed(): boolean {
    return this.#failure !== null;
  }

  /**
   * Queues one whole reply. The caller must not change `bytes` afterwards.
   *
   * @returns resolves when the reply was written; rejects with the sink's error
   */
  send(bytes: Uint8Array): Promise<void> {
    const sent = this.enqueue(bytes);
    this.flush();
    return sent;
  }

  /**
   * Queues one whole reply without starting a write: replies queued in a row go out together
   * at the next {@link flush} (or {@link send}). The caller must not change `bytes` afterwards.
   *
   * @returns resolves when the reply was written; rejects with the sink's error
   */
  enqueue(bytes: Uint8Array): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failure.error);
    return new Promise((resolve, reject) => {
      this.#queue.push({ bytes, resolve, reject });
    });
  }

  /** Starts writing the queued replies unless a write is already running. */
  flush(): void {
    if (!this.#writing && this.#queue.length > 0) void this.#pump();
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#takeBatch();
        try {
          if (batch.length === 1) {
            await writeAll(this.#sink, batch[0]!.bytes);
          } else {
            let size = 0;
            for (const entry of batch) {
              this.#coalesce.set(entry.bytes, size);
              size += entry.bytes.length;
            }
            await writeAll(this.#sink, this.#coalesce.subarray(0, size));
          }
        } catch (error) {
          this.#failure = { error };
          for (const entry of batch) entry.reject(error);
          for (const entry of this.#queue.splice(0)) entry.reject(error);
          return;
        }
        for (const entry of batch) entry.resolve();
      }
    } finally {
      this.#writing = false;
    }
  }

  /** Takes the longest queue prefix that fits the coalesce buffer (at least one reply). */
  #takeBatch(): Pending[] {
    let count = 0;
    let size = 0;
    for (const entry of this.#queue) {
      if (count > 0 && size + entry.bytes.length > this.#coalesce.length) break;
      size += entry.bytes.length;
      count++;
      if (size > this.#coalesce.length) break;
    }
    return this.#queue.splice(0, count);
  }
}
