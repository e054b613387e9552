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
import { encodeBulk, type EncodedBulk } from "./bulk_encode.ts";
import { releaseBytes } from "./release_bytes.ts";
import { RoundRobinWorkerPool, transferable } from "./worker_pool.ts";

/** A pool of workers encoding device reads into bulks. */
export class BulkCompressorPool {
  #pool: RoundRobinWorkerPool<BulkResult, EncodedBulk[]>;

  constructor(workerCount: number) {
    this.#pool = new RoundRobinWorkerPool(
      new URL("./bulk_compress_worker.ts", import.meta.url).href,
      workerCount,
      (result) => {
        if ("error" in result) {
          return new Error(`full-sync bulk compression failed: ${result.error}`);
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
        return bulks;
      },
    );
  }

  /** Encodes the bulks of one read on the next worker (round robin); `data` is transferred. */
  encode(
    data: Uint8Array,
    bulkBytes: number,
    compression: Pick<CompressOpt, "type" | "level">,
  ): Promise<EncodedBulk[]> {
    // Only whole buffers transfer; a view is copied once.
    const owned = transferable(data);
    const job: Omit<BulkJob, "id"> = {
      data: owned,
      bulkBytes,
      type: compression.type,
      level: compression.level,
    };
    return this.#pool.submit(job, owned.buffer);
  }

  /** Stops every worker. */
  close(): void {
    this.#pool.close();
  }
}

/**
 * Encodes device reads into bulks with `workerCount` workers (0: in this thread),
 * `inFlightMax` reads at a time, yielding each read's bulks in read order. The reads are
 * consumed: transferred to a worker, or freed once encoded in this thread.
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
  if (init.workerCount === 0) {
    for await (const data of reads) {
      const bulks = encodeInThread(data, init);
      releaseBytes(data); // consumed, as a transferred read is
      yield bulks;
    }
    return;
  }
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

/** Encodes one read's bulks in this thread (no worker: `workerCount` 0). */
function encodeInThread(
  data: Uint8Array,
  init: { bulkBytes: number; compression: Pick<CompressOpt, "type" | "level"> },
): EncodedBulk[] {
  const bulks: EncodedBulk[] = [];
  for (let start = 0; start < data.length; start += init.bulkBytes) {
    bulks.push(encodeBulk(data.subarray(start, start + init.bulkBytes), init.compression));
  }
  return bulks;
}
