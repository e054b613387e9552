/**
 * Full-sync bulks encoded off the main thread: each device read (several bulks) goes to one
 * of `CompressOpt.numCpu` workers (bulk_compress_worker.ts), the original's compression
 * threads; results come back in read order, so the bytes sent never depend on the number of
 * workers. The main thread keeps reading the device and writing the socket meanwhile.
 *
 * @module
 */
import type { CompressOpt } from "../codec/codec.ts";
import { assert } from "../errors.ts";
import type { BulkJob, BulkResult } from "./bulk_compress_worker.ts";
import type { EncodedBulk } from "./bulk_encode.ts";

/** A pool of workers encoding device reads into bulks. */
export class BulkCompressorPool {
  #workers: Worker[] = [];
  #pending = new Map<number, { resolve(bulks: EncodedBulk[]): void; reject(e: Error): void }>();
  #nextId = 0;
  #nextWorker = 0;

  constructor(workerCount: number) {
    assert(workerCount >= 1, "at least one worker");
    for (let i = 0; i < workerCount; i++) {
      const worker = new Worker(new URL("./bulk_compress_worker.ts", import.meta.url).href, {
        type: "module",
      });
      worker.onmessage = (event: MessageEvent<BulkResult>) => this.#settle(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        for (const waiter of this.#pending.values()) waiter.reject(new Error(event.message));
        this.#pending.clear();
      };
      this.#workers.push(worker);
    }
  }

  #settle(result: BulkResult): void {
    const waiter = this.#pending.get(result.id);
    if (waiter === undefined) return;
    this.#pending.delete(result.id);
    if ("error" in result) {
      waiter.reject(new Error(`full-sync bulk compression failed: ${result.error}`));
      return;
    }
    const bulks: EncodedBulk[] = [];
    let offset = 0;
    for (let i = 0; i < result.sizes.length; i++) {
      const size = result.sizes[i]!;
      if (size < 0) {
        bulks.push({ stored: null, checksum: 0 });
        continue;
      }
      bulks.push({
        stored: result.stored.subarray(offset, offset + size),
        checksum: result.checksums[i]!,
      });
      offset += size;
    }
    waiter.resolve(bulks);
  }

  /** Encodes the bulks of one read on the next worker (round robin); `data` is transferred. */
  encode(
    data: Uint8Array,
    bulkBytes: number,
    compression: Pick<CompressOpt, "type" | "level">,
  ): Promise<EncodedBulk[]> {
    // Only whole buffers transfer; a view is copied once.
    const owned = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
      ? data
      : data.slice();
    const job: BulkJob = {
      id: this.#nextId++,
      data: owned,
      bulkBytes,
      type: compression.type,
      level: compression.level,
    };
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

/**
 * Encodes device reads into bulks with `workerCount` workers, `inFlightMax` reads at a time,
 * yielding each read's bulks in read order.
 *
 * @param reads device reads, each a whole number of bulks except the last
 * @param init bulk size, codec, workers and the bound on reads being encoded
 * @returns the encoded bulks of each read, in order
 */
export async function* encodeReads(
  reads: AsyncIterable<Uint8Array>,
  init: {
    bulkBytes: number;
    compression: Pick<CompressOpt, "type" | "level">;
    workerCount: number;
    inFlightMax: number;
  },
): AsyncGenerator<EncodedBulk[]> {
  assert(init.inFlightMax >= 1, "at least one read in flight");
  const pool = new BulkCompressorPool(init.workerCount);
  const inFlight: Promise<EncodedBulk[]>[] = [];
  try {
    for await (const data of reads) {
      const encoded = pool.encode(data, init.bulkBytes, init.compression);
      encoded.catch(() => {}); // awaited in turn below
      inFlight.push(encoded);
      if (inFlight.length >= init.inFlightMax) yield await inFlight.shift()!;
    }
    while (inFlight.length > 0) yield await inFlight.shift()!;
  } finally {
    await Promise.allSettled(inFlight);
    pool.close();
  }
}
