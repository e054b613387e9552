/**
 * Worker entry of {@link PackCompressorPool} (merge_workers.ts): builds one variant B pack
 * (compresses its normal records) and sends the sealed block and payload back.
 *
 * @module
 */
import type { DiffKind, DiffRecord } from "./diff_record.ts";
import { buildCompressedPack } from "./sorted_writer.ts";
import type { CompressionSetting } from "./stored_data.ts";

/** A pack to compress: record headers, their data concatenated, the codec. */
export interface PackJob {
  id: number;
  records: { ioAddress: number; ioBlocks: number; kind: DiffKind }[];
  data: Uint8Array;
  setting: CompressionSetting;
}

/** The built pack, or the error text. */
export type PackResult =
  | { id: number; block: Uint8Array; payload: Uint8Array }
  | { id: number; error: string };

/** Rebuilds the records of a job (data views into `job.data`). */
export function recordsOfJob(job: PackJob): DiffRecord[] {
  let offset = 0;
  return job.records.map((r) => {
    if (r.kind !== "normal") return { ...r, data: null };
    const size = r.ioBlocks * 512;
    const data = job.data.subarray(offset, offset + size);
    offset += size;
    return { ...r, data };
  });
}

/** `bytes` itself when it spans its whole buffer, else a copy (only whole buffers transfer). */
function owned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : bytes.slice();
}

// Only when running as a worker (no `window`-style document and a `postMessage` global).
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<PackJob>) => void) | null;
  postMessage(message: PackResult, transfer: Transferable[]): void;
};
if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  scope.onmessage = (event) => {
    const job = event.data;
    try {
      const pack = buildCompressedPack(recordsOfJob(job), job.setting);
      const block = owned(pack.block);
      const payload = owned(pack.payload);
      scope.postMessage({ id: job.id, block, payload }, [
        block.buffer as ArrayBuffer,
        payload.buffer as ArrayBuffer,
      ]);
    } catch (error) {
      scope.postMessage({ id: job.id, error: String(error) }, []);
    }
  };
}
