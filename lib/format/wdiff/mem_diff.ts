/**
 * The in-memory diff of wdiff-and-archive.md §6.2: an ordered map of non-overlapping
 * {@link DiffRecord}s where the newest insertion wins block by block. Used by the sorted
 * wlog→wdiff conversion and as the reference model of the streaming merge.
 *
 * The records sit in a two-level sorted list (leaves of at most {@link LEAF_RECORDS_MAX}
 * records, found by binary search on their first addresses): appends are O(1), random inserts
 * and removals O(log n + leaf size), which keeps a 256 MiB wlog of 4 KiB random IOs (~65 000
 * records) well under a second.
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { LIMITS } from "../../limits.ts";
import { type DiffRecord, recordEnd } from "./diff_record.ts";
import { BufferHolders } from "./buffer_release.ts";
import { LazyDataRecord } from "./lazy_record.ts";
import { SourceDataRecord } from "./source_record.ts";

/** Records per leaf before it is split in two (a memmove of at most 4 KiB of pointers). */
const LEAF_RECORDS_MAX = 512;

/**
 * The part `[startLb, endLb)` of a record, sharing its data buffer.
 *
 * @param record the record to cut
 * @param startLb first block kept (within the record)
 * @param endLb end of the kept range (exclusive, within the record)
 * @returns a record of the same kind over the range
 * @example
 * ```ts
 * import { sliceRecord } from "./mem_diff.ts";
 * const part = sliceRecord({ ioAddress: 8, ioBlocks: 4, kind: "allZero", data: null }, 9, 11);
 * if (part.ioAddress !== 9 || part.ioBlocks !== 2) throw new Error("wrong slice");
 * ```
 */
export function sliceRecord(record: DiffRecord, startLb: number, endLb: number): DiffRecord {
  assert(startLb >= record.ioAddress, "slice starts before the record");
  assert(endLb <= recordEnd(record), "slice ends after the record");
  assert(startLb < endLb, "slice must not be empty");
  if (startLb === record.ioAddress && endLb === recordEnd(record)) return record;
  if (record instanceof LazyDataRecord || record instanceof SourceDataRecord) {
    return record.slice(startLb, endLb);
  }
  const data = record.data === null ? null : record.data.subarray(
    (startLb - record.ioAddress) * LIMITS.lbSize,
    (endLb - record.ioAddress) * LIMITS.lbSize,
  );
  return { ioAddress: startLb, ioBlocks: endLb - startLb, kind: record.kind, data };
}

/**
 * Cuts a record into consecutive chunks of exactly `maxBlocks` blocks from its start (the last
 * one shorter), as the in-memory diff does on insertion (§6.2 step 3).
 *
 * @param record the record
 * @param maxBlocks chunk size [lb]; 0 = no limit (the record is yielded whole)
 * @returns the chunks in address order
 * @example
 * ```ts
 * import { chunkRecord } from "./mem_diff.ts";
 * const chunks = [...chunkRecord({ ioAddress: 3, ioBlocks: 5, kind: "discard", data: null }, 2)];
 * if (chunks.map((c) => c.ioBlocks).join() !== "2,2,1") throw new Error("wrong chunks");
 * ```
 */
export function* chunkRecord(record: DiffRecord, maxBlocks: number): Generator<DiffRecord> {
  assert(record.ioBlocks > 0, "record must not be empty");
  if (maxBlocks <= 0 || record.ioBlocks <= maxBlocks) {
    yield record;
    return;
  }
  const end = recordEnd(record);
  for (let start = record.ioAddress; start < end; start += maxBlocks) {
    yield sliceRecord(record, start, Math.min(start + maxBlocks, end));
  }
}

/** Options of {@link MemDiff}. */
export interface MemDiffOptions {
  /** Chunk limit of inserted records [lb] (default 2048; 0 = no limit). */
  maxBlocks?: number;
  /**
   * The diff owns the buffers of inserted data (nobody else holds them): a buffer none of
   * whose bytes are held any more is detached at once (`ArrayBuffer.transfer(0)`), and a small
   * part kept of a large overwritten record is copied so the rest can go. Why: the sorted
   * wlog conversion drops a third of what it reads (issue #3), and waiting for V8's garbage
   * collector to free those buffers raised its peak RSS by ~90 MiB. Default false.
   */
  releaseDropped?: boolean;
}

/** A position in the two-level list. */
interface Slot {
  leafIndex: number;
  index: number;
}

/**
 * Ordered, non-overlapping map of diff records with "newest wins" insertion (§6.2).
 *
 * @example
 * ```ts
 * import { MemDiff } from "./mem_diff.ts";
 * const diff = new MemDiff({ maxBlocks: 0 });
 * diff.insert({ ioAddress: 0, ioBlocks: 8, kind: "discard", data: null });
 * diff.insert({ ioAddress: 2, ioBlocks: 2, kind: "allZero", data: null });
 * const shape = [...diff.records()].map((r) => `${r.ioAddress}+${r.ioBlocks}:${r.kind}`);
 * if (shape.join(" ") !== "0+2:discard 2+2:allZero 4+4:discard") throw new Error(shape.join());
 * ```
 */
export class MemDiff {
  readonly maxBlocks: number;
  #leaves: DiffRecord[][] = [];
  #recordCount = 0;
  #dataBytes = 0;
  /** Held records per data buffer, when {@link MemDiffOptions.releaseDropped}. */
  #holders: BufferHolders | null;

  constructor(options: MemDiffOptions = {}) {
    this.maxBlocks = options.maxBlocks ?? LIMITS.diffIoLbDefault;
    this.#holders = options.releaseDropped === true ? new BufferHolders() : null;
    assert(Number.isSafeInteger(this.maxBlocks) && this.maxBlocks >= 0, "maxBlocks must be >= 0");
  }

  /** Number of records held. */
  get recordCount(): number {
    return this.#recordCount;
  }

  /** Bytes of uncompressed data held by normal records. */
  get dataBytes(): number {
    return this.#dataBytes;
  }

  /**
   * Inserts a record: blocks of older records it covers are dropped, their uncovered left and
   * right parts kept (not re-chunked); the record itself is cut into `maxBlocks` chunks.
   *
   * @param record a record with ioBlocks > 0 (and ioBlocks × 512 bytes of data when normal)
   */
  insert(record: DiffRecord): void {
    assert(record.ioBlocks > 0, "cannot insert an empty record");
    assert(Number.isSafeInteger(record.ioAddress) && record.ioAddress >= 0, "bad io_address");
    // A SourceDataRecord's data is read only when it is written.
    if (!(record instanceof SourceDataRecord)) {
      assert(
        (record.kind === "normal") === (record.data !== null),
        "only normal records carry data",
      );
      assert(
        record.data === null || record.data.length === record.ioBlocks * LIMITS.lbSize,
        "record data size differs from io_blocks",
      );
    }
    const start = record.ioAddress;
    const end = recordEnd(record);
    const removed: DiffRecord[] = [];
    for (;;) {
      const slot = this.#lastBefore(end);
      if (slot === null) break;
      const old = this.#at(slot);
      if (recordEnd(old) <= start) break;
      this.#removeAt(slot);
      removed.push(old);
    }
    for (const old of removed) {
      if (old.ioAddress < start) this.#add(this.#kept(sliceRecord(old, old.ioAddress, start)));
      if (end < recordEnd(old)) this.#add(this.#kept(sliceRecord(old, end, recordEnd(old))));
    }
    for (const chunk of chunkRecord(record, this.maxBlocks)) this.#add(chunk);
    if (this.#holders !== null) {
      for (const old of removed) {
        if (holdsData(old) && old.data !== null) this.#releaseIfUnheld(old.data.buffer);
      }
    }
  }

  /** A kept piece; with releaseDropped, a copy when it is under half of its buffer. */
  #kept(piece: DiffRecord): DiffRecord {
    if (this.#holders === null || !holdsData(piece)) return piece;
    const data = piece.data;
    if (data === null || data.length * 2 >= data.buffer.byteLength) {
      return piece;
    }
    return { ...piece, data: data.slice() };
  }

  /** Detaches `buffer` when no held record uses it (releaseDropped). */
  #releaseIfUnheld(buffer: ArrayBufferLike): void {
    if (this.#holders!.isHeld(buffer) || !(buffer instanceof ArrayBuffer) || buffer.detached) {
      return;
    }
    // Frees the backing store now instead of at the next full garbage collection.
    buffer.transfer(0);
  }

  /** Every record in increasing address order (do not insert while iterating). */
  *records(): Generator<DiffRecord> {
    for (const leaf of this.#leaves) yield* leaf;
  }

  /**
   * Removes and yields, in address order, every record that ends at or before `addressLb`
   * (all records when omitted). Used by streaming producers to emit what is final.
   */
  *takeBefore(addressLb = Number.POSITIVE_INFINITY): Generator<DiffRecord> {
    while (this.#leaves.length > 0) {
      const leaf = this.#leaves[0]!;
      let count = 0;
      while (count < leaf.length && recordEnd(leaf[count]!) <= addressLb) count++;
      const taken = leaf.splice(0, count);
      for (const record of taken) this.#account(record, -1);
      if (leaf.length === 0) this.#leaves.shift();
      yield* taken;
      if (count === 0 || leaf.length > 0) return;
    }
  }

  /** Removes every record. */
  clear(): void {
    this.#holders?.clear();
    this.#leaves = [];
    this.#recordCount = 0;
    this.#dataBytes = 0;
  }

  #at(slot: Slot): DiffRecord {
    return this.#leaves[slot.leafIndex]![slot.index]!;
  }

  #account(record: DiffRecord, sign: 1 | -1): void {
    this.#recordCount += sign;
    if (record.kind !== "normal") return;
    this.#dataBytes += sign * record.ioBlocks * LIMITS.lbSize;
    if (!holdsData(record) || record.data === null) return;
    // Counting only: taken records change owner, dropped ones are released by insert().
    if (sign > 0) this.#holders?.hold(record.data);
    else this.#holders?.release(record.data, false);
  }

  /** Slot of the record with the greatest address strictly below `addressLb`, if any. */
  #lastBefore(addressLb: number): Slot | null {
    const leaves = this.#leaves;
    let low = 0;
    let high = leaves.length; // first leaf whose first address >= addressLb
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (leaves[middle]![0]!.ioAddress < addressLb) low = middle + 1;
      else high = middle;
    }
    if (low === 0) return null;
    const leafIndex = low - 1;
    const leaf = leaves[leafIndex]!;
    return { leafIndex, index: lowerBound(leaf, addressLb) - 1 };
  }

  #removeAt(slot: Slot): void {
    const leaf = this.#leaves[slot.leafIndex]!;
    const [record] = leaf.splice(slot.index, 1);
    this.#account(record!, -1);
    if (leaf.length === 0) this.#leaves.splice(slot.leafIndex, 1);
  }

  /** Adds a record that overlaps none held. */
  #add(record: DiffRecord): void {
    this.#account(record, 1);
    const leaves = this.#leaves;
    const last = leaves[leaves.length - 1];
    if (last === undefined) {
      leaves.push([record]);
      return;
    }
    if (last[last.length - 1]!.ioAddress < record.ioAddress) {
      // Appends (wlogs written sequentially, merges) stay O(1).
      if (last.length < LEAF_RECORDS_MAX) last.push(record);
      else leaves.push([record]);
      return;
    }
    const slot = this.#lastBefore(record.ioAddress);
    const leafIndex = slot === null ? 0 : slot.leafIndex;
    const leaf = leaves[leafIndex]!;
    leaf.splice(slot === null ? 0 : slot.index + 1, 0, record);
    if (leaf.length > LEAF_RECORDS_MAX) {
      leaves.splice(leafIndex + 1, 0, leaf.splice(leaf.length >>> 1));
    }
  }
}

/** False for source records: their data is read only when they are written. */
function holdsData(record: DiffRecord): boolean {
  return !(record instanceof SourceDataRecord);
}

/** First index in `leaf` whose address is >= `addressLb`. */
function lowerBound(leaf: readonly DiffRecord[], addressLb: number): number {
  let low = 0;
  let high = leaf.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (leaf[middle]!.ioAddress < addressLb) low = middle + 1;
    else high = middle;
  }
  return low;
}
