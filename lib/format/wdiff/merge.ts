/**
 * Streaming merge of wdiffs (wdiff-and-archive.md §6.4): N record streams, oldest first, each
 * in increasing non-overlapping address order, into one stream equal to inserting every record
 * of input 0, then input 1, … into an in-memory diff (§6.2) with `maxBlocks`.
 *
 * Instead of the original's sliding window, the merge sweeps addresses once, holding only the
 * current chunk of each input: at each position the newest input whose current chunk covers it
 * wins, up to that chunk's end or the start of a newer input's chunk. Because insertion outcome
 * depends only on "which chunk of which record is newest for each block" (chunk boundaries are
 * fixed from each record's own start), this yields exactly the sequential definition: each
 * emitted piece is a maximal run of one chunk not covered by any newer input. Memory is one
 * record per input.
 *
 * @module
 */
import { assert, CorruptDataError } from "../../errors.ts";
import { LIMITS } from "../../limits.ts";
import { type DiffRecord, recordEnd } from "./diff_record.ts";
import { LazyDataRecord } from "./lazy_record.ts";
import { chunkRecord, sliceRecord } from "./mem_diff.ts";
import { packCanAdd } from "./pack_header.ts";
import { uncompressedSizeOf } from "./sorted_writer.ts";
import { countRecord, type DiffStatistics } from "./stats.ts";

/** Options of {@link mergeDiffs}. */
export interface MergeOptions {
  /** Chunk limit of output records [lb] (default 2048; 0 = no limit). */
  maxBlocks?: number;
  /** Counts every record read from the inputs, before chunking (record counts and lb only). */
  inputStats?: DiffStatistics;
  /** Counts every record emitted (record counts and lb only). */
  outputStats?: DiffStatistics;
  /** Receives the peak number of data bytes the merge held at once (a memory figure). */
  memory?: { peakBytes: number };
}

/**
 * A merge input: records, or batches of records (e.g. one pack's), in order. Why batches: an
 * async iteration step per record cost more than the merge's own work per record.
 */
export type MergeInput = AsyncIterable<DiffRecord | readonly DiffRecord[]>;

/** One input's reading state: its iterator, pending chunks of the current record, the head. */
class InputCursor {
  head: DiffRecord | null = null;
  heldBytes = 0;
  #iterator: AsyncIterator<DiffRecord | readonly DiffRecord[]>;
  #batch: readonly DiffRecord[] = [];
  #batchIndex = 0;
  #chunks: Generator<DiffRecord> | null = null;
  #previousEnd = 0;

  constructor(
    source: MergeInput,
    readonly index: number,
    readonly maxBlocks: number,
    readonly stats: DiffStatistics | undefined,
  ) {
    this.#iterator = source[Symbol.asyncIterator]();
  }

  /**
   * Moves `head` to the next chunk when that needs no read (a pending chunk or a record of
   * the current batch): true when it did, false when {@link advance} must read.
   */
  tryAdvance(): boolean {
    for (;;) {
      const next = this.#chunks?.next();
      if (next !== undefined && next.done !== true) {
        this.head = next.value;
        return true;
      }
      if (this.#batchIndex >= this.#batch.length) return false;
      this.#start(this.#batch[this.#batchIndex++]!);
    }
  }

  /** Moves `head` to the next chunk (null at the end of the input). */
  async advance(): Promise<void> {
    while (!this.tryAdvance()) {
      const result = await this.#iterator.next();
      if (result.done === true) {
        this.head = null;
        this.heldBytes = 0;
        this.#chunks = null;
        return;
      }
      const value = result.value;
      if (Array.isArray(value)) {
        this.#batch = value;
        this.#batchIndex = 0;
      } else {
        this.#start(value as DiffRecord);
      }
    }
  }

  #start(input: DiffRecord): void {
    const record = this.#check(input);
    if (this.stats !== undefined) countRecord(this.stats, record.kind, record.ioBlocks);
    // ioBlocks, not data.length: reading the data would decompress a lazy record.
    this.heldBytes = record.kind === "normal" ? record.ioBlocks * LIMITS.lbSize : 0;
    this.#chunks = chunkRecord(record, this.maxBlocks);
  }

  #check(record: DiffRecord): DiffRecord {
    const what = `merge input ${this.index} record`;
    if (!(record.ioBlocks > 0)) {
      throw new CorruptDataError(
        what,
        -1,
        `io_blocks is ${record.ioBlocks} at ${record.ioAddress}`,
      );
    }
    if (record.ioAddress < this.#previousEnd) {
      throw new CorruptDataError(
        what,
        -1,
        `io_address ${record.ioAddress} is before the previous record's end ${this.#previousEnd}`,
      );
    }
    // A lazy record checks its data size when it loads it.
    assert(
      record.kind !== "normal" || record instanceof LazyDataRecord ||
        record.data?.length === record.ioBlocks * LIMITS.lbSize,
      "normal record data must be io_blocks × 512 bytes",
    );
    this.#previousEnd = recordEnd(record);
    return record;
  }

  /** Releases the input (stops a generator early). */
  async close(): Promise<void> {
    await this.#iterator.return?.();
  }
}

/**
 * Merges record streams, oldest first, "newer wins" block by block (§6.4).
 *
 * @param inputs record streams (or streams of record batches), oldest first, each sorted and
 *   non-overlapping
 * @param options maxBlocks, statistics sinks
 * @returns the merged records in increasing non-overlapping address order, each within one
 *   `maxBlocks` chunk of one input record
 * @throws {CorruptDataError} when an input yields a record before its previous record's end
 * @example
 * ```ts
 * import { mergeDiffs } from "./merge.ts";
 * import type { DiffRecord } from "./diff_record.ts";
 * async function* of(...records: DiffRecord[]) { yield* records; }
 * const older = of({ ioAddress: 0, ioBlocks: 8, kind: "discard", data: null });
 * const newer = of({ ioAddress: 2, ioBlocks: 2, kind: "allZero", data: null });
 * const shape: string[] = [];
 * for await (const r of mergeDiffs([older, newer])) shape.push(`${r.ioAddress}+${r.ioBlocks}`);
 * if (shape.join(" ") !== "0+2 2+2 4+4") throw new Error(shape.join(" "));
 * ```
 */
export async function* mergeDiffs(
  inputs: readonly MergeInput[],
  options: MergeOptions = {},
): AsyncGenerator<DiffRecord> {
  for await (const batch of mergedBatches(inputs, options, 1)) yield batch[0]!;
}

/**
 * {@link mergeDiffs} yielding the merged records in batches of up to `batchSize`, for a
 * consumer that takes many at once (`groupPacks`). Why: an async step per merged record cost
 * more than merging it.
 *
 * @param inputs record streams (or streams of record batches), oldest first
 * @param options maxBlocks, statistics sinks
 * @param batchSize most records per batch (default 128)
 * @returns the merged records of {@link mergeDiffs}, in order, in non-empty batches
 * @throws {CorruptDataError} when an input yields a record before its previous record's end
 */
export function mergeDiffBatches(
  inputs: readonly MergeInput[],
  options: MergeOptions = {},
  batchSize = 128,
): AsyncGenerator<DiffRecord[]> {
  assert(Number.isSafeInteger(batchSize) && batchSize >= 1, "batchSize must be >= 1");
  return mergedBatches(inputs, options, batchSize);
}

async function* mergedBatches(
  inputs: readonly MergeInput[],
  options: MergeOptions,
  batchSize: number,
): AsyncGenerator<DiffRecord[]> {
  let batch: DiffRecord[] = [];
  const maxBlocks = options.maxBlocks ?? LIMITS.diffIoLbDefault;
  assert(Number.isSafeInteger(maxBlocks) && maxBlocks >= 0, "maxBlocks must be >= 0");
  const cursors = inputs.map((input, index) =>
    new InputCursor(input, index, maxBlocks, options.inputStats)
  );
  try {
    for (const cursor of cursors) await cursor.advance();
    let position = Number.NEGATIVE_INFINITY;
    for (;;) {
      let heldBytes = 0;
      for (const cursor of cursors) {
        while (cursor.head !== null && recordEnd(cursor.head) <= position) {
          if (!cursor.tryAdvance()) await cursor.advance();
        }
        heldBytes += cursor.heldBytes;
      }
      if (options.memory !== undefined && heldBytes > options.memory.peakBytes) {
        options.memory.peakBytes = heldBytes;
      }
      const winner = newestCovering(cursors, position);
      if (winner < 0) {
        const next = earliestStart(cursors);
        if (next === null) {
          if (batch.length > 0) yield batch;
          return;
        }
        position = next;
        continue;
      }
      const head = cursors[winner]!.head!;
      let pieceEnd = recordEnd(head);
      for (let j = winner + 1; j < cursors.length; j++) {
        const newer = cursors[j]!.head;
        if (newer !== null && newer.ioAddress < pieceEnd) pieceEnd = newer.ioAddress;
      }
      assert(pieceEnd > position, "a merged piece must not be empty");
      const piece = sliceRecord(head, position, pieceEnd);
      if (options.outputStats !== undefined) {
        countRecord(options.outputStats, piece.kind, piece.ioBlocks);
      }
      batch.push(piece);
      position = pieceEnd;
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  } finally {
    for (const cursor of cursors) await cursor.close();
  }
}

/** Index of the newest input whose head covers `position`, or -1. */
function newestCovering(cursors: readonly InputCursor[], position: number): number {
  for (let i = cursors.length - 1; i >= 0; i--) {
    const head = cursors[i]!.head;
    if (head !== null && head.ioAddress <= position) return i;
  }
  return -1;
}

/** Smallest head address over all inputs, or null when all are exhausted. */
function earliestStart(cursors: readonly InputCursor[]): number | null {
  let start: number | null = null;
  for (const cursor of cursors) {
    const head = cursor.head;
    if (head !== null && (start === null || head.ioAddress < start)) start = head.ioAddress;
  }
  return start;
}

/**
 * Groups records into the packs of sorted writer variant B (§4.6): the "can add" test uses
 * uncompressed sizes, so pack boundaries do not depend on the codec and packs can be
 * compressed independently (in parallel) with `buildCompressedPack`.
 *
 * @param records records (or batches of them, e.g. from {@link mergeDiffBatches}) in increasing
 *   non-overlapping address order
 * @returns groups of 1..127 records, in order
 * @example
 * ```ts
 * import { groupPacks } from "./merge.ts";
 * async function* zeros() {
 *   for (let i = 0; i < 200; i++) yield { ioAddress: i, ioBlocks: 1, kind: "allZero" as const, data: null };
 * }
 * const sizes: number[] = [];
 * for await (const group of groupPacks(zeros())) sizes.push(group.length);
 * if (sizes.join() !== "127,73") throw new Error(sizes.join());
 * ```
 */
export async function* groupPacks(
  records: AsyncIterable<DiffRecord | readonly DiffRecord[]>,
): AsyncGenerator<DiffRecord[]> {
  let group: DiffRecord[] = [];
  let groupSize = 0;
  for await (const item of records) {
    const batch = Array.isArray(item) ? item : [item as DiffRecord];
    for (const record of batch) {
      const size = uncompressedSizeOf(record);
      if (!packCanAdd(group.length, groupSize, size)) {
        yield group;
        group = [];
        groupSize = 0;
      }
      group.push(record);
      groupSize += size;
    }
  }
  if (group.length > 0) yield group;
}
