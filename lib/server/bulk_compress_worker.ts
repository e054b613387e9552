/**
 * Worker entry of {@link BulkCompressorPool} (bulk_compressor.ts): encodes every bulk of one
 * device read ({@link encodeBulk}) and sends back their stored bytes concatenated, with each
 * bulk's stored size (-1: all zero) and checksum.
 *
 * @module
 */
import type { CompressionTypeCode } from "../codec/codec.ts";
import { encodeBulk } from "./bulk_encode.ts";

/** One device read to encode in bulks of `bulkBytes` (the last may be shorter). */
export interface BulkJob {
  id: number;
  data: Uint8Array;
  bulkBytes: number;
  type: CompressionTypeCode;
  level: number;
}

/** The encoded bulks of a job, or the error text. */
export type BulkResult =
  | { id: number; stored: Uint8Array; sizes: Int32Array; checksums: Uint32Array }
  | { id: number; error: string };

/** Encodes a job's bulks (also used in-thread by tests). */
export function runBulkJob(job: BulkJob): BulkResult {
  const count = Math.ceil(job.data.length / job.bulkBytes);
  const sizes = new Int32Array(count);
  const checksums = new Uint32Array(count);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const start = i * job.bulkBytes;
    const bulk = job.data.subarray(start, Math.min(start + job.bulkBytes, job.data.length));
    const encoded = encodeBulk(bulk, job);
    if (encoded.stored === null) {
      sizes[i] = -1;
      continue;
    }
    sizes[i] = encoded.stored.length;
    checksums[i] = encoded.checksum;
    parts.push(encoded.stored);
    total += encoded.stored.length;
  }
  const stored = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    stored.set(part, offset);
    offset += part.length;
  }
  return { id: job.id, stored, sizes, checksums };
}

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<BulkJob>) => void) | null;
  postMessage(message: BulkResult, transfer: Transferable[]): void;
};
if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  scope.onmessage = (event) => {
    const job = event.data;
    let result: BulkResult;
    try {
      result = runBulkJob(job);
    } catch (error) {
      scope.postMessage({ id: job.id, error: String(error) }, []);
      return;
    }
    const transfer = "stored" in result
      ? [result.stored.buffer, result.sizes.buffer, result.checksums.buffer] as ArrayBuffer[]
      : [];
    scope.postMessage(result, transfer);
  };
}
