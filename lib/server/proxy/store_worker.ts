/**
 * Worker entry of {@link StorePool} (store_pool.ts): stores the data of one logpack's normal
 * IOs ({@link storeData}: compressed if smaller, checksummed) and sends back the stored bytes
 * concatenated, with each IO's stored size, compression type and checksum.
 *
 * @module
 */
import type { CompressionTypeCode } from "../../codec/codec.ts";
import { storeData } from "../../format/wdiff/stored_data.ts";

/** The data of a logpack's normal IOs, in order, and the wdiff's codec. */
export interface StoreJob {
  id: number;
  datas: Uint8Array[];
  type: CompressionTypeCode;
  level: number;
}

/** The stored forms of a job's IOs, or the error text. */
export type StoreResult =
  | {
    id: number;
    stored: Uint8Array;
    sizes: Uint32Array;
    types: Uint8Array;
    checksums: Uint32Array;
  }
  | { id: number; error: string };

/** Stores a job's IOs (also used in-thread by tests). */
export function runStoreJob(job: StoreJob): StoreResult {
  const count = job.datas.length;
  const sizes = new Uint32Array(count);
  const types = new Uint8Array(count);
  const checksums = new Uint32Array(count);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const stored = storeData(job.datas[i]!, job);
    sizes[i] = stored.stored.length;
    types[i] = stored.compressionType;
    checksums[i] = stored.checksum;
    parts.push(stored.stored);
    total += stored.stored.length;
  }
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return { id: job.id, stored: joined, sizes, types, checksums };
}

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<StoreJob>) => void) | null;
  postMessage(message: StoreResult, transfer: Transferable[]): void;
};
if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  scope.onmessage = (event) => {
    const job = event.data;
    let result: StoreResult;
    try {
      result = runStoreJob(job);
      // The inputs were transferred to us: free them now, not at this isolate's next GC.
      for (const data of job.datas) {
        const buffer = data.buffer as ArrayBuffer;
        if (!buffer.detached) buffer.transfer(0);
      }
    } catch (error) {
      scope.postMessage({ id: job.id, error: String(error) }, []);
      return;
    }
    const transfer = "stored" in result
      ? [result.stored.buffer, result.sizes.buffer, result.types.buffer, result.checksums.buffer]
      : [];
    scope.postMessage(result, transfer as ArrayBuffer[]);
  };
}
