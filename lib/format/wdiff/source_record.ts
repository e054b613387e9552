/**
 * A normal diff record that remembers where its data lies in the conversion's input instead of
 * holding it, and reads it from there when it is written. Why: the sorted wlog conversion
 * holds the whole diff until the end, and for a 268 MB wlog of random data its fresh copies of
 * the IO data (~170 MB kept) cost a page fault per 4 KiB, collections and most of its peak RSS;
 * read again from a regular input file (the page cache), they cost one copy into a buffer
 * reused pack after pack.
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { LIMITS } from "../../limits.ts";
import type { DiffRecord } from "./diff_record.ts";
import { rememberChecksum } from "./stored_data.ts";

/** Reads bytes at a position of the conversion's input (e.g. `FileRandomAccess`). */
export interface PositionalReader {
  /**
   * Fills `target` with the bytes at `offset`.
   *
   * @throws {CorruptDataError} when the input ends first (it changed since it was read)
   */
  readInto(offset: number, target: Uint8Array): void;
}

/**
 * A normal record whose data is `ioBlocks` × 512 bytes at `sourceOffset` of the input, read by
 * {@link SourceDataRecord.load}; {@link SourceDataRecord.slice} gives pieces of it, as
 * `sliceRecord` does for records with data.
 *
 * @example
 * ```ts
 * import { SourceDataRecord } from "./source_record.ts";
 * const input = new Uint8Array(4096).map((_, i) => i >> 9);
 * const reader = { readInto: (offset: number, target: Uint8Array) => target.set(input.subarray(offset, offset + target.length)) };
 * const piece = new SourceDataRecord(100, 8, 0).slice(102, 104);
 * piece.load(new Uint8Array(1024), reader);
 * if (piece.ioAddress !== 102 || piece.data[0] !== 2 || piece.data[1023] !== 3) throw new Error("wrong");
 * ```
 */
export class SourceDataRecord implements DiffRecord {
  /** Always normal: other kinds carry no data. */
  readonly kind = "normal" as const;
  #data: Uint8Array | null = null;

  /**
   * @param ioAddress first logical block
   * @param ioBlocks length in logical blocks (> 0)
   * @param sourceOffset byte position of the data in the input
   * @param checksum csum(data, 0) when known (whole log IOs: the reader verified it)
   */
  constructor(
    readonly ioAddress: number,
    readonly ioBlocks: number,
    readonly sourceOffset: number,
    readonly checksum?: number,
  ) {
    assert(ioBlocks > 0, "source record must not be empty");
    assert(Number.isSafeInteger(sourceOffset) && sourceOffset >= 0, "bad source offset");
  }

  /** The data read by {@link load}; a bug before it. */
  get data(): Uint8Array {
    assert(this.#data !== null, "source record data used before load()");
    return this.#data;
  }

  /** True once {@link load} read the data. */
  get loaded(): boolean {
    return this.#data !== null;
  }

  /**
   * Reads the data into `target` (exactly `ioBlocks` × 512 bytes), which becomes
   * {@link data}; the caller owns `target` and must not reuse it while the record is used.
   *
   * @throws whatever `reader.readInto` throws
   */
  load(target: Uint8Array, reader: PositionalReader): void {
    assert(target.length === this.ioBlocks * LIMITS.lbSize, "load target size differs");
    reader.readInto(this.sourceOffset, target);
    // The writer stores random data raw: its checksum need not be summed again.
    if (this.checksum !== undefined) rememberChecksum(target, this.checksum);
    this.#data = target;
  }

  /**
   * The blocks `[startLb, endLb)`, as a record at the matching input position (its checksum
   * is not known).
   *
   * @param startLb first block, inside the record
   * @param endLb end block (exclusive), inside the record
   */
  slice(startLb: number, endLb: number): SourceDataRecord {
    assert(startLb >= this.ioAddress && endLb <= this.ioAddress + this.ioBlocks, "bad slice");
    assert(!this.loaded, "slice of a loaded source record");
    const offset = this.sourceOffset + (startLb - this.ioAddress) * LIMITS.lbSize;
    return new SourceDataRecord(startLb, endLb - startLb, offset);
  }
}
