/**
 * The proxy's wlog → indexed wdiff conversion with the compression off the main thread: the
 * normal IOs of each received logpack are stored (compressed if smaller, checksummed) by a
 * worker while the main thread receives, verifies and decompresses the next logpacks; the
 * stored forms are added to the writer in log order, so the file's bytes are those of the
 * in-thread conversion.
 *
 * @module
 */
import { CompressionType, type CompressionTypeCode } from "../../codec/codec.ts";
import { checksum } from "../../format/checksum/checksum.ts";
import type { LogpackIo } from "../../format/wlog/mod.ts";
import { assert } from "../../errors.ts";
import type { DiffRecord } from "../../format/wdiff/diff_record.ts";
import type { IndexedWdiffWriter } from "../../format/wdiff/mod.ts";
import type { CompressionSetting, StoredData } from "../../format/wdiff/stored_data.ts";
import { releaseBytes } from "../release_bytes.ts";
import type { StoreJob, StoreResult } from "./store_worker.ts";

/** Workers storing IO data for wlog conversions. */
export class StorePool {
  #workers: Worker[] = [];
  #pending = new Map<number, { resolve(s: StoredData[]): void; reject(e: Error): void }>();
  #nextId = 0;
  #nextWorker = 0;

  constructor(workerCount: number) {
    assert(workerCount >= 1, "at least one worker");
    for (let i = 0; i < workerCount; i++) {
      const worker = new Worker(new URL("./store_worker.ts", import.meta.url).href, {
        type: "module",
      });
      worker.onmessage = (event: MessageEvent<StoreResult>) => this.#settle(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        for (const waiter of this.#pending.values()) waiter.reject(new Error(event.message));
        this.#pending.clear();
      };
      this.#workers.push(worker);
    }
  }

  #settle(result: StoreResult): void {
    const waiter = this.#pending.get(result.id);
    if (waiter === undefined) return;
    this.#pending.delete(result.id);
    if ("error" in result) {
      waiter.reject(new Error(`wlog conversion failed: ${result.error}`));
      return;
    }
    const stored: StoredData[] = [];
    let offset = 0;
    for (let i = 0; i < result.sizes.length; i++) {
      const size = result.sizes[i]!;
      stored.push({
        compressionType: result.types[i]! as CompressionTypeCode,
        stored: result.stored.subarray(offset, offset + size),
        checksum: result.checksums[i]!,
      });
      offset += size;
    }
    waiter.resolve(stored);
  }

  /**
   * Stores `datas` on the next worker. Their buffers are transferred (the caller's views
   * become empty): each must be a buffer only the caller holds.
   */
  store(datas: Uint8Array[], setting: CompressionSetting): Promise<StoredData[]> {
    const buffers = new Set<ArrayBuffer>();
    for (const data of datas) buffers.add(data.buffer as ArrayBuffer);
    const job: StoreJob = { id: this.#nextId++, datas, type: setting.type, level: setting.level };
    const worker = this.#workers[this.#nextWorker]!;
    this.#nextWorker = (this.#nextWorker + 1) % this.#workers.length;
    return new Promise((resolve, reject) => {
      this.#pending.set(job.id, { resolve, reject });
      worker.postMessage(job, [...buffers]);
    });
  }

  /** Stops every worker. */
  close(): void {
    for (const worker of this.#workers) worker.terminate();
    this.#workers = [];
  }
}

/**
 * The stored form of a normal IO taken from how it travelled (wlog stream, §1.11.1), when that
 * is what `storeData` (stored_data.ts) with snappy would produce, so that the IO need not be compressed
 * and checksummed again: the record's data is exactly its payload (no pb padding), and it
 * came snappy-compressed and smaller (the stored block is the received one; its checksum is
 * computed) or verbatim (stored uncompressed; its checksum with salt 0 follows from the
 * record's checksum with `salt`, already verified). Undefined otherwise: store it anew. With
 * one snappy library on both ends the bytes are those `storeData` (stored_data.ts) gives.
 *
 * @param io the received IO (its payload's checksum verified against the record)
 * @param compressed the snappy block it came in, or undefined when it came verbatim
 * @param salt the wlog's checksum salt
 * @returns the stored form for a snappy wdiff, or undefined
 */
export function storedFromWire(
  io: LogpackIo,
  compressed: Uint8Array | undefined,
  salt: number,
): StoredData | undefined {
  if (io.data.length !== io.payload.length || io.data.length === 0) return undefined;
  if (compressed === undefined) {
    // The sender compresses whenever that is smaller (§1.11.1): stored verbatim as well.
    return {
      compressionType: CompressionType.none,
      stored: io.data,
      checksum: (io.record.checksum + salt) >>> 0,
    };
  }
  if (compressed.length >= io.data.length) return undefined;
  return {
    compressionType: CompressionType.snappy,
    stored: compressed,
    checksum: checksum(compressed, 0),
  };
}

/** Adds logpacks' records to an indexed writer, their normal IOs stored by a {@link StorePool}. */
export class PooledIndexedAdder {
  #queue: {
    records: DiffRecord[];
    ready: (StoredData | undefined)[] | undefined;
    stored: Promise<StoredData[]>;
    pooledBytes: number;
  }[] = [];
  #queuedBytes = 0;

  constructor(
    readonly writer: IndexedWdiffWriter,
    readonly pool: () => StorePool,
    readonly setting: CompressionSetting,
    readonly queuedBytesMax: number,
  ) {}

  /**
   * Queues one logpack's records (in log order); the data buffers of normal records without a
   * `ready` stored form are transferred to the pool (started on first use). Waits while more
   * than `queuedBytesMax` of data is being stored.
   *
   * @param records the logpack's diff records
   * @param ready `ready[i]`: the stored form of `records[i]` when already known (normal only)
   */
  async add(records: DiffRecord[], ready?: (StoredData | undefined)[]): Promise<void> {
    assert(ready === undefined || ready.length === records.length, "one stored form per record");
    const datas: Uint8Array[] = [];
    for (const [i, record] of records.entries()) {
      if (record.kind === "normal" && ready?.[i] === undefined) datas.push(record.data!);
    }
    const bytes = datas.reduce((sum, data) => sum + data.length, 0);
    const stored = datas.length === 0
      ? Promise.resolve([])
      : this.pool().store(datas, this.setting);
    stored.catch(() => {}); // awaited in turn by #writeOne
    this.#queue.push({ records, ready, stored, pooledBytes: bytes });
    this.#queuedBytes += bytes;
    while (this.#queuedBytes > this.queuedBytesMax && this.#queue.length > 1) {
      await this.#writeOne();
    }
    // Nothing pooled ahead: write at once (the caller's buffers are freed sooner).
    while (this.#queuedBytes === 0 && this.#queue.length > 0) await this.#writeOne();
  }

  /** Writes everything queued. */
  async finish(): Promise<void> {
    while (this.#queue.length > 0) await this.#writeOne();
  }

  /** Waits for what is in flight (after an error), without writing. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.#queue.map((item) => item.stored));
    this.#queue = [];
  }

  async #writeOne(): Promise<void> {
    const item = this.#queue.shift()!;
    const stored = await item.stored;
    let index = 0;
    for (const [i, record] of item.records.entries()) {
      if (record.kind !== "normal") {
        await this.writer.addStored(record, undefined);
        continue;
      }
      const ready = item.ready?.[i];
      if (ready !== undefined) {
        await this.writer.addStored(record, ready);
        releaseBytes(ready.stored); // written or copied; a buffer of its own (received)
        continue;
      }
      await this.writer.addStored(record, stored[index++]);
    }
    this.#queuedBytes -= item.pooledBytes;
    assert(index === stored.length, "every stored IO written");
    // The writer copied or wrote them; the joined buffer from the worker is ours alone.
    if (stored.length > 0) releaseBytes(new Uint8Array(stored[0]!.stored.buffer));
  }
}
