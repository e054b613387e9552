/**
 * The archive's full-sync bulks verified and decompressed off the main thread, by up to
 * `CompressOpt.numCpu` workers (bulk_decode_worker.ts), while the main thread receives the
 * next bulks and writes the base image.
 *
 * @module
 */
import type { CompressionTypeCode } from "../codec/codec.ts";
import { assert } from "../errors.ts";
import type { DecodeJob, DecodeResult } from "./bulk_decode_worker.ts";

/** A decoded bulk: the stored bytes' checksum and the data, or why it is corrupt. */
export type DecodedBulk = { checksum: number; data: Uint8Array } | {
  checksum: number;
  corrupt: string;
};

/** A pool of workers decoding stored bulks. */
export class BulkDecoderPool {
  #workers: Worker[] = [];
  #pending = new Map<number, { resolve(bulk: DecodedBulk): void; reject(e: Error): void }>();
  #nextId = 0;
  #nextWorker = 0;

  constructor(workerCount: number) {
    assert(workerCount >= 1, "at least one worker");
    for (let i = 0; i < workerCount; i++) {
      const worker = new Worker(new URL("./bulk_decode_worker.ts", import.meta.url).href, {
        type: "module",
      });
      worker.onmessage = (event: MessageEvent<DecodeResult>) => this.#settle(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        for (const waiter of this.#pending.values()) waiter.reject(new Error(event.message));
        this.#pending.clear();
      };
      this.#workers.push(worker);
    }
  }

  #settle(result: DecodeResult): void {
    const waiter = this.#pending.get(result.id);
    if (waiter === undefined) return;
    this.#pending.delete(result.id);
    if ("error" in result) {
      waiter.reject(new Error(`full-sync bulk decoding failed: ${result.error}`));
    } else if ("data" in result) waiter.resolve({ checksum: result.checksum, data: result.data });
    else waiter.resolve({ checksum: result.checksum, corrupt: result.corrupt });
  }

  /** Decodes `stored` (a buffer only the caller holds; transferred) to `sizeBytes`. */
  decode(stored: Uint8Array, sizeBytes: number, type: CompressionTypeCode): Promise<DecodedBulk> {
    const owned = stored.byteOffset === 0 && stored.byteLength === stored.buffer.byteLength
      ? stored
      : stored.slice();
    const job: DecodeJob = { id: this.#nextId++, stored: owned, sizeBytes, type };
    const worker = this.#workers[this.#nextWorker]!;
    this.#nextWorker = (this.#nextWorker + 1) % this.#workers.length;
    return new Promise((resolve, reject) => {
      this.#pending.set(job.id, { resolve, reject });
      worker.postMessage(job, [owned.buffer as ArrayBuffer]);
    });
  }

  /** Stops every worker. */
  close(): void {
    for (const worker of this.#workers) worker.terminate();
    this.#workers = [];
  }
}
