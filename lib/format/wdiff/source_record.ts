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
import { assert, CorruptDataError } from "../../errors.ts";
import { LIMITS } from "../../limits.ts";
import { checksum as checksumOf } from "../checksum/checksum.ts";
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
  /** The whole log IO this record is (part of), verified by its checksum when read again. */
  readonly #origin: SourceOrigin | undefined;

  /**
   * @param ioAddress first logical block
   * @param ioBlocks length in logical blocks (> 0)
   * @param sourceOffset byte position of the data in the input
   * @param checksum csum(data, 0) when known (whole log IOs: the reader verified it); the
   *   data read again by {@link load} must match it
   * @param origin for a piece ({@link slice}): the whole IO it was cut from
   */
  constructor(
    readonly ioAddress: number,
    readonly ioBlocks: number,
    readonly sourceOffset: number,
    readonly checksum?: number,
    origin?: SourceOrigin,
  ) {
    assert(ioBlocks > 0, "source record must not be empty");
    assert(Number.isSafeInteger(sourceOffset) && sourceOffset >= 0, "bad source offset");
    this.#origin = checksum !== undefined ? { sourceOffset, ioBlocks, checksum } : origin;
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
   * When the record comes from a verified log IO, the bytes read again must still have that
   * IO's checksum (a piece: the whole IO is read and summed): the input may have changed
   * between the two reads, and nothing unverified is written.
   *
   * @throws {CorruptDataError} when the bytes read again differ from those verified
   * @throws whatever `reader.readInto` throws
   */
  load(target: Uint8Array, reader: PositionalReader): void {
    assert(target.length === this.ioBlocks * LIMITS.lbSize, "load target size differs");
    const origin = this.#origin;
    if (origin === undefined) {
      reader.readInto(this.sourceOffset, target);
    } else if (origin.sourceOffset === this.sourceOffset && origin.ioBlocks === this.ioBlocks) {
      reader.readInto(this.sourceOffset, target);
      checkOrigin(origin, target);
    } else {
      const whole = scratchOf(origin.ioBlocks * LIMITS.lbSize);
      reader.readInto(origin.sourceOffset, whole);
      checkOrigin(origin, whole);
      const start = this.sourceOffset - origin.sourceOffset;
      target.set(whole.subarray(start, start + target.length));
    }
    // The writer stores random data raw: its checksum need not be summed again.
    if (this.checksum !== undefined) rememberChecksum(target, this.checksum);
    this.#data = target;
  }

  /**
   * The blocks `[startLb, endLb)`, as a record at the matching input position (its own
   * checksum is not known; its whole IO's is, and {@link load} checks that one).
   *
   * @param startLb first block, inside the record
   * @param endLb end block (exclusive), inside the record
   */
  slice(startLb: number, endLb: number): SourceDataRecord {
    assert(startLb >= this.ioAddress && endLb <= this.ioAddress + this.ioBlocks, "bad slice");
    assert(!this.loaded, "slice of a loaded source record");
    const offset = this.sourceOffset + (startLb - this.ioAddress) * LIMITS.lbSize;
    return new SourceDataRecord(startLb, endLb - startLb, offset, undefined, this.#origin);
  }
}

/** A whole log IO in the input: where its data lies and csum(data, 0). */
interface SourceOrigin {
  sourceOffset: number;
  ioBlocks: number;
  checksum: number;
}

function checkOrigin(origin: SourceOrigin, data: Uint8Array): void {
  const actual = checksumOf(data, 0);
  if (actual !== origin.checksum) {
    throw new CorruptDataError(
      "wlog IO data read again",
      origin.sourceOffset,
      `checksum ${hex(actual)}, ${hex(origin.checksum)} when first read: the input changed`,
    );
  }
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, "0")}`;
}

/** One buffer for whole IOs read to load a piece (loads are synchronous; grown as needed). */
let scratch = new Uint8Array(0);

function scratchOf(lengthBytes: number): Uint8Array {
  if (scratch.length < lengthBytes) scratch = new Uint8Array(lengthBytes);
  return scratch.subarray(0, lengthBytes);
}
