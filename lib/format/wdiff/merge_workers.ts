/**
 * Parallel compression of variant B packs (`CompressOpt.numCpu` > 1): packs are grouped in
 * order by uncompressed size (`groupPacks`), so each can be compressed independently; results
 * are yielded in input order, so the output bytes never depend on the number of workers.
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { CompressionType } from "../../codec/codec.ts";
import type { DiffRecord } from "./diff_record.ts";
import { LazyDataRecord } from "./lazy_record.ts";
import type { JobRecord, PackJob, PackResult } from "./merge_worker.ts";
import { recordEnd } from "./diff_record.ts";
import {
  buildCompressedPack,
  buildPackParts,
  type BuiltPack,
  reusableStoredForm,
  storeDiffRecord,
  uncompressedSizeOf,
} from "./sorted_writer.ts";
import type { CompressionSetting } from "./stored_data.ts";

/** Capacity granule of job data buffers: jobs of similar size share buffers. */
const SPARE_GRANULE_SIZE = 1024 * 1024;

/**
 * Bytes of spare job buffers kept: jobs in flight are one or two per worker, usually a few
 * MiB each (at most 32 MiB); more is freed, so the peak RSS stays that of the jobs.
 */
const SPARE_SIZE_MAX = 64 * 1024 * 1024;

/** A pool of workers compressing packs. */
export class PackCompressorPool {
  #workers: Worker[] = [];
  #pending = new Map<number, { resolve(pack: BuiltPack): void; reject(error: Error): void }>();
  #nextId = 0;
  #nextWorker = 0;
  /**
   * Job data buffers the workers gave back, for the next jobs. Why: a fresh array per job
   * (up to 32 MiB) was zeroed and faulted in page by page, for every byte the workers compress.
   */
  #spare: ArrayBuffer[] = [];

  constructor(workerCount: number) {
    assert(workerCount >= 1, "at least one worker");
    for (let i = 0; i < workerCount; i++) {
      const worker = new Worker(new URL("./merge_worker.ts", import.meta.url).href, {
        type: "module",
      });
      worker.onmessage = (event: MessageEvent<PackResult>) => this.#settle(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        for (const waiter of this.#pending.values()) waiter.reject(new Error(event.message));
        this.#pending.clear();
      };
      this.#workers.push(worker);
    }
  }

  #settle(result: PackResult): void {
    const waiter = this.#pending.get(result.id);
    if (waiter === undefined) return;
    this.#pending.delete(result.id);
    if ("error" in result) {
      waiter.reject(new Error(`pack compression failed: ${result.error}`));
      return;
    }
    const spare = result.data?.buffer;
    if (spare instanceof ArrayBuffer && spare.byteLength > 0) {
      let kept = spare.byteLength;
      for (const buffer of this.#spare) kept += buffer.byteLength;
      if (kept <= SPARE_SIZE_MAX) this.#spare.push(spare);
    }
    waiter.resolve({ block: result.block, payload: result.payload });
  }

  /** Compresses one pack on the next worker (round robin). */
  compress(records: readonly DiffRecord[], setting: CompressionSetting): Promise<BuiltPack> {
    // Records already stored with this codec travel as stored bytes (as in the one-thread
    // path), so the output bytes do not depend on the worker count.
    const parts: Uint8Array[] = [];
    const jobRecords = records.map((record): JobRecord => {
      const job: JobRecord = {
        ioAddress: record.ioAddress,
        ioBlocks: record.ioBlocks,
        kind: record.kind,
      };
      if (record.kind !== "normal") return job;
      const form = reusableStoredForm(record, setting);
      if (form !== undefined) {
        parts.push(form.stored);
        return { ...job, stored: { size: form.stored.length, checksum: form.checksum } };
      }
      // Not yet decompressed: the worker decompresses it (the same bytes, off this thread).
      if (record instanceof LazyDataRecord && !record.loaded && record.storedForm !== undefined) {
        const { stored, compressionType } = record.storedForm;
        parts.push(stored);
        return { ...job, encoded: { size: stored.length, compressionType } };
      }
      assert(record.data !== null, "normal record without data");
      parts.push(record.data);
      return job;
    });
    let size = 0;
    for (const part of parts) size += part.length;
    // One contiguous copy, transferred: cloning views would copy their whole buffers.
    const data = this.#takeSpare(size);
    let offset = 0;
    for (const part of parts) {
      data.set(part, offset);
      offset += part.length;
    }
    const job: PackJob = {
      id: this.#nextId++,
      records: jobRecords,
      data,
      setting: { type: setting.type, level: setting.level },
    };
    const worker = this.#workers[this.#nextWorker]!;
    this.#nextWorker = (this.#nextWorker + 1) % this.#workers.length;
    return new Promise((resolve, reject) => {
      this.#pending.set(job.id, { resolve, reject });
      worker.postMessage(job, [data.buffer as ArrayBuffer]);
    });
  }

  /** `size` bytes in a spare buffer that fits (the smallest), or in a new one. */
  #takeSpare(size: number): Uint8Array {
    if (size === 0) return new Uint8Array(0);
    let best = -1;
    for (let i = 0; i < this.#spare.length; i++) {
      const capacity = this.#spare[i]!.byteLength;
      if (capacity >= size && (best < 0 || capacity < this.#spare[best]!.byteLength)) best = i;
    }
    if (best < 0) {
      const capacity = Math.max(1, Math.ceil(size / SPARE_GRANULE_SIZE)) * SPARE_GRANULE_SIZE;
      return new Uint8Array(new ArrayBuffer(capacity), 0, size);
    }
    const buffer = this.#spare.splice(best, 1)[0]!;
    return new Uint8Array(buffer, 0, size);
  }

  /** Stops every worker. */
  close(): void {
    for (const worker of this.#workers) worker.terminate();
    this.#workers = [];
  }
}

/** Frees the data whole input records loaded for a pack that is built (or sent) now. */
function releaseLoadedData(group: readonly DiffRecord[]): void {
  for (const record of group) if (record instanceof LazyDataRecord) record.releaseData();
}

/**
 * Compresses pack groups with `workerCount` workers (1 = in this thread), in order.
 *
 * @param groups record groups from `groupPacks`
 * @param setting codec and level
 * @param workerCount parallelism; never changes the bytes
 * @returns the built packs in input order
 */
export async function* compressPacks(
  groups: AsyncIterable<DiffRecord[]>,
  setting: CompressionSetting,
  workerCount: number,
): AsyncGenerator<BuiltPack> {
  if (workerCount <= 1) {
    for await (const group of groups) {
      const pack = buildCompressedPack(group, setting);
      releaseLoadedData(group);
      yield pack;
    }
    return;
  }
  const pool = new PackCompressorPool(workerCount);
  const inFlight: Promise<BuiltPack>[] = [];
  try {
    for await (const group of groups) {
      inFlight.push(pool.compress(group, setting)); // copies what it sends
      releaseLoadedData(group);
      if (inFlight.length >= workerCount) yield await inFlight.shift()!;
    }
    while (inFlight.length > 0) yield await inFlight.shift()!;
  } finally {
    // Settle what is left so no rejection goes unhandled, then stop the workers.
    await Promise.allSettled(inFlight);
    pool.close();
  }
}

/** `groups`, pushing the end [lb] of each group's last record onto `ends` as it passes. */
async function* noteEnds(
  groups: AsyncIterable<DiffRecord[]>,
  ends: number[],
): AsyncGenerator<DiffRecord[]> {
  for await (const group of groups) {
    ends.push(recordEnd(group[group.length - 1]!));
    yield group;
  }
}

/** A built pack with its payload in parts, and the end [lb] of its last record. */
export interface BuiltPackParts {
  block: Uint8Array;
  /** The payload in order; valid only until the consumer asks for the next pack. */
  parts: readonly Uint8Array[];
  endLb: number;
}

/** Options of {@link compressPackParts}. */
export interface CompressPackPartsOptions {
  /**
   * A clock [ms]; given, packs of a cheap codec (none, snappy, lz4, zstd up to level 3) are
   * first built in this thread, and the workers start only once compressing takes most of
   * this thread's time (see {@link ADAPTIVE_SHARE_MIN}).
   */
  nowMs?: () => number;
}

/**
 * Share of the main thread's time spent compressing above which workers take over. Why:
 * shipping a pack to a worker (a copy, messages, each worker's start-up and compiling) costs
 * more than a fast codec: the issue #3 merge to zstd:0:2 took 0.65 s of CPU and 0.65-0.75 s of
 * wall time with two workers, 0.45 s of both in this thread, where zstd took 32-40 % of the
 * thread's time (at 0.5, noise sent every third run to the workers).
 */
const ADAPTIVE_SHARE_MIN = 0.6;

/**
 * Codecs worth trying in this thread first: none, snappy, lz4, zstd up to its default level.
 * Why not the others: xz and gzip always need the workers, and an xz encoder (~100 MiB) in
 * this thread too lifted the lzma:0:2 merge's peak RSS from 234 to 270 MiB.
 */
function cheapToTry(setting: CompressionSetting): boolean {
  switch (setting.type) {
    case CompressionType.none:
    case CompressionType.snappy:
    case CompressionType.lz4:
      return true;
    case CompressionType.zstd:
      return setting.level <= 3; // 0 = the default, 3
    default:
      return false;
  }
}

/** Packs, or uncompressed bytes, built in this thread before the share is judged. */
const ADAPTIVE_PACKS_MIN = 64;
const ADAPTIVE_SIZE_MIN = 64 * 1024 * 1024;

/**
 * {@link compressPacks} for a consumer that writes each pack before asking for the next
 * (`SortedWdiffWriter.addPackParts`): in this thread, the payload stays in parts (stored bytes
 * reused from the inputs, fresh compressed arrays) instead of being joined into a fresh array.
 * Why: the join copied every output byte once more into memory faulted in page by page.
 * With `nowMs`, workers start only when compressing dominates (the bytes never depend on it).
 *
 * @param groups record groups from `groupPacks`
 * @param setting codec and level
 * @param workerCount parallelism; never changes the bytes
 * @param options `nowMs` for the adaptive start of the workers
 * @returns the built packs in input order
 */
export async function* compressPackParts(
  groups: AsyncIterable<DiffRecord[]>,
  setting: CompressionSetting,
  workerCount: number,
  options: CompressPackPartsOptions = {},
): AsyncGenerator<BuiltPackParts> {
  const nowMs = cheapToTry(setting) ? options.nowMs : undefined;
  let rest = groups;
  if (workerCount <= 1 || nowMs !== undefined) {
    const iterator = groups[Symbol.asyncIterator]();
    rest = { [Symbol.asyncIterator]: () => iterator };
    const startMs = nowMs?.() ?? 0;
    let compressMs = 0;
    let packCount = 0;
    let size = 0;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      const group = next.value;
      const beforeMs = nowMs?.() ?? 0;
      const built = buildPackParts(group.map((record) => storeDiffRecord(record, setting)));
      compressMs += (nowMs?.() ?? 0) - beforeMs;
      const endLb = recordEnd(group[group.length - 1]!);
      yield { block: built.block, parts: built.parts, endLb };
      // The parts may be views of the loaded data: freed only once the consumer wrote them.
      releaseLoadedData(group);
      if (workerCount <= 1 || nowMs === undefined) continue;
      packCount++;
      for (const record of group) size += uncompressedSizeOf(record);
      if (packCount < ADAPTIVE_PACKS_MIN && size < ADAPTIVE_SIZE_MIN) continue;
      if (compressMs > ADAPTIVE_SHARE_MIN * (nowMs() - startMs)) break;
    }
  }
  const ends: number[] = [];
  for await (const pack of compressPacks(noteEnds(rest, ends), setting, workerCount)) {
    yield { block: pack.block, parts: [pack.payload], endLb: ends.shift()! };
  }
}
