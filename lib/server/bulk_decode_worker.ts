/**
 * Worker entry of {@link BulkDecoderPool} (bulk_decoder.ts): checksums one stored full-sync
 * bulk and decompresses it to its size; the caller compares the checksum and the size.
 *
 * @module
 */
import type { CompressionTypeCode } from "../codec/codec.ts";
import { getCodec } from "../codec/mod.ts";
import { CorruptDataError } from "../errors.ts";
import { checksum } from "../format/checksum/checksum.ts";

/** One stored bulk to decode to `sizeBytes`. */
export interface DecodeJob {
  id: number;
  stored: Uint8Array;
  sizeBytes: number;
  type: CompressionTypeCode;
}

/** The checksum of the stored bytes and the data; or why the data is corrupt; or a bug. */
export type DecodeResult =
  | { id: number; checksum: number; data: Uint8Array }
  | { id: number; checksum: number; corrupt: string }
  | { id: number; error: string };

/** Decodes one job (also used in-thread by tests). */
export function runDecodeJob(job: DecodeJob): DecodeResult {
  const sum = checksum(job.stored, 0);
  try {
    return {
      id: job.id,
      checksum: sum,
      data: getCodec(job.type).decompress(job.stored, job.sizeBytes),
    };
  } catch (error) {
    if (!(error instanceof CorruptDataError)) throw error;
    return { id: job.id, checksum: sum, corrupt: error.message };
  }
}

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<DecodeJob>) => void) | null;
  postMessage(message: DecodeResult, transfer: Transferable[]): void;
};
if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  scope.onmessage = (event) => {
    const job = event.data;
    let result: DecodeResult;
    try {
      result = runDecodeJob(job);
    } catch (error) {
      scope.postMessage({ id: job.id, error: String(error) }, []);
      return;
    }
    const buffer = job.stored.buffer as ArrayBuffer;
    if (!buffer.detached) buffer.transfer(0); // ours (transferred): free it now
    if (!("data" in result)) {
      scope.postMessage(result, []);
      return;
    }
    const data = result.data.byteOffset === 0 &&
        result.data.byteLength === result.data.buffer.byteLength
      ? result.data
      : result.data.slice();
    scope.postMessage({ ...result, data }, [data.buffer as ArrayBuffer]);
  };
}
