/**
 * The archive's full-sync bulks verified and decompressed off the main thread, by up to
 * `CompressOpt.numCpu` workers (bulk_decode_worker.ts), while the main thread receives the
 * next bulks and writes the base image.
 *
 * @module
 */
import type { CompressionTypeCode } from "../codec/codec.ts";
import type { DecodeJob, DecodeResult } from "./bulk_decode_worker.ts";
import { RoundRobinWorkerPool, transferable } from "./worker_pool.ts";

/** A decoded bulk: the stored bytes' checksum and the data, or why it is corrupt. */
export type DecodedBulk = { checksum: number; data: Uint8Array } | {
  checksum: number;
  corrupt: string;
};

/** A pool of workers decoding stored bulks. */
export class BulkDecoderPool {
  #pool: RoundRobinWorkerPool<DecodeResult, DecodedBulk>;

  constructor(workerCount: number) {
    this.#pool = new RoundRobinWorkerPool(
      new URL("./bulk_decode_worker.ts", import.meta.url).href,
      workerCount,
      (result) => {
        if ("error" in result) return new Error(`full-sync bulk decoding failed: ${result.error}`);
        if ("data" in result) return { checksum: result.checksum, data: result.data };
        return { checksum: result.checksum, corrupt: result.corrupt };
      },
    );
  }

  /** Decodes `stored` (a buffer only the caller holds; transferred) to `sizeBytes`. */
  decode(stored: Uint8Array, sizeBytes: number, type: CompressionTypeCode): Promise<DecodedBulk> {
    const owned = transferable(stored);
    const job: Omit<DecodeJob, "id"> = { stored: owned, sizeBytes, type };
    return this.#pool.submit(job, owned.buffer);
  }

  /** Stops every worker. */
  close(): void {
    this.#pool.close();
  }
}
