/**
 * Worker entry of {@link PackCompressorPool} (merge_workers.ts): builds one variant B pack
 * (compresses its normal records) and sends the sealed block and payload back.
 *
 * @module
 */
import type { DiffKind } from "./diff_record.ts";
import { buildPack, storeDiffRecord, type StoredRecord, storedRecordOf } from "./sorted_writer.ts";
import { type CompressionSetting, decodeStoredData } from "./stored_data.ts";

/**
 * One record of a job. `stored` marks a record whose bytes in `data` are already stored with
 * the job's codec (`reusableStoredForm`): `size` stored bytes with this checksum. `encoded`
 * marks bytes stored with another codec (checksum verified on read): the worker decompresses
 * them, so the main thread does not.
 */
export interface JobRecord {
  ioAddress: number;
  ioBlocks: number;
  kind: DiffKind;
  stored?: { size: number; checksum: number };
  encoded?: { size: number; compressionType: number };
}

/** A pack to compress: record headers, their data concatenated, the codec. */
export interface PackJob {
  id: number;
  records: JobRecord[];
  data: Uint8Array;
  setting: CompressionSetting;
}

/**
 * The built pack, or the error text; `data` is the job's data array given back (transferred)
 * for the next job, once nothing refers to it.
 */
export type PackResult =
  | { id: number; block: Uint8Array; payload: Uint8Array; data?: Uint8Array }
  | { id: number; error: string };

/** Builds the stored records of a job (data views into `job.data`), compressing the rest. */
export function storedRecordsOfJob(job: PackJob): StoredRecord[] {
  let offset = 0;
  return job.records.map((r): StoredRecord => {
    const record = { ioAddress: r.ioAddress, ioBlocks: r.ioBlocks, kind: r.kind };
    if (r.kind !== "normal") return storeDiffRecord({ ...record, data: null }, job.setting);
    const size = r.stored?.size ?? r.encoded?.size ?? r.ioBlocks * 512;
    const bytes = job.data.subarray(offset, offset + size);
    offset += size;
    if (r.encoded !== undefined) {
      const info = {
        compressionType: r.encoded.compressionType,
        checksum: 0, // verified when the record was read
        outputSize: r.ioBlocks * 512,
      };
      const data = decodeStoredData(bytes, info, "wdiff record data", -1, false);
      return storeDiffRecord({ ...record, data }, job.setting);
    }
    if (r.stored === undefined) return storeDiffRecord({ ...record, data: bytes }, job.setting);
    return storedRecordOf(record, {
      compressionType: job.setting.type,
      stored: bytes,
      checksum: r.stored.checksum,
    });
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
      const pack = buildPack(storedRecordsOfJob(job)); // copies out of job.data
      const block = owned(pack.block);
      const payload = owned(pack.payload);
      const transfer = [block.buffer as ArrayBuffer, payload.buffer as ArrayBuffer];
      const data = job.data;
      const giveBack = data.buffer instanceof ArrayBuffer && !transfer.includes(data.buffer);
      if (giveBack) transfer.push(data.buffer as ArrayBuffer);
      scope.postMessage({ id: job.id, block, payload, ...(giveBack ? { data } : {}) }, transfer);
    } catch (error) {
      scope.postMessage({ id: job.id, error: String(error) }, []);
    }
  };
}
