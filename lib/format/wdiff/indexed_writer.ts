/**
 * Streaming writer of indexed wdiff files (wdiff-and-archive.md §5.5): IO images are appended
 * to the data area as they arrive; an ordered index of aligned pieces is kept in memory with
 * "newest wins" insertion and written, sorted, at the end with the super block.
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { LIMITS } from "../../limits.ts";
import type { BufferedWriter } from "../../io/stream.ts";
import { AddressMap } from "./address_map.ts";
import type { DiffRecord } from "./diff_record.ts";
import { buildWdiffHeader, WDIFF_HEADER_SIZE, WDIFF_UUID_SIZE, WdiffType } from "./file_header.ts";
import {
  buildIndexSuper,
  encodeIndexRecord,
  forEachAligned,
  INDEX_RECORD_SIZE,
} from "./indexed_format.ts";
import { flagsOfKind } from "./record.ts";
import {
  type CompressionSetting,
  DEFAULT_COMPRESSION,
  storeData,
  type StoredData,
} from "./stored_data.ts";

/** Options of {@link IndexedWdiffWriter}. */
export interface IndexedWdiffWriterOptions {
  /** Header UUID (default all zero). */
  uuid?: Uint8Array;
  /** Codec and level (default snappy:0). */
  compression?: CompressionSetting;
  /** Largest index piece [lb], floored to a power of two; 0 = unlimited (default 2048). */
  maxIoBlocks?: number;
}

/** Index records written per write call at finalization. */
const INDEX_WRITE_BATCH = 1024;

/** The index fields every piece of one IO shares (see `IndexRecord`). */
interface IoImage {
  flags: number;
  compressionType: number;
  dataOffset: number;
  dataSize: number;
  origBlocks: number;
  ioChecksum: number;
}

/**
 * One aligned piece of the index: its range, its offset in the IO's image, and the IO's
 * shared fields. Why not a whole `IndexRecord` each: the pieces live until the end (tens of
 * thousands), and copying eleven fields per piece doubled what the collector had to move.
 */
interface Piece {
  ioAddress: number;
  ioBlocks: number;
  /** Offset of this piece in the IO's image [lb]. */
  ioOffset: number;
  image: IoImage;
}

/**
 * Writes an indexed wdiff to a sequential {@link BufferedWriter}. Feed IOs in arrival (log)
 * order with {@link add}; later IOs win where they overlap earlier ones.
 *
 * @example
 * ```ts
 * import { BufferedWriter, MemorySink } from "../../io/stream.ts";
 * import { IndexedWdiffWriter } from "./indexed_writer.ts";
 * const sink = new MemorySink();
 * const writer = new IndexedWdiffWriter(new BufferedWriter(sink));
 * await writer.add({ ioAddress: 5, ioBlocks: 3, kind: "allZero", data: null });
 * await writer.close();
 * if (sink.bytes().length !== 32 + 2 * 48 + 24) throw new Error("wrong");
 * ```
 */
export class IndexedWdiffWriter {
  #writer: BufferedWriter;
  #uuid: Uint8Array;
  #setting: CompressionSetting;
  #maxIoBlocks: number;
  #index = new AddressMap<Piece>();
  #position = WDIFF_HEADER_SIZE;
  #dataCount = 0;
  #headerWritten = false;
  #closed = false;

  constructor(writer: BufferedWriter, options: IndexedWdiffWriterOptions = {}) {
    this.#writer = writer;
    this.#uuid = options.uuid ?? new Uint8Array(WDIFF_UUID_SIZE);
    assert(this.#uuid.length === WDIFF_UUID_SIZE, "uuid must be 16 bytes");
    this.#setting = options.compression ?? DEFAULT_COMPRESSION;
    this.#maxIoBlocks = options.maxIoBlocks ?? LIMITS.diffIoLbDefault;
    assert(Number.isSafeInteger(this.#maxIoBlocks) && this.#maxIoBlocks >= 0, "bad maxIoBlocks");
  }

  /** IOs added so far (the super block's n_data). */
  get dataCount(): number {
    return this.#dataCount;
  }

  /** Index pieces currently held. */
  get pieceCount(): number {
    return this.#index.size;
  }

  async #ensureHeader(): Promise<void> {
    if (this.#headerWritten) return;
    this.#headerWritten = true;
    await this.#writer.write(buildWdiffHeader(WdiffType.indexed, this.#uuid));
  }

  /**
   * Adds one IO: a normal IO's data is compressed ("only if smaller") and appended to the
   * data area at once; its aligned pieces replace what they overlap in the index.
   *
   * @param record the IO, uncompressed
   */
  async add(record: DiffRecord): Promise<void> {
    let stored: StoredData | undefined;
    if (record.kind === "normal") {
      assert(record.data !== null, "normal record without data");
      assert(record.data.length === record.ioBlocks * 512, "record data size differs");
      stored = storeData(record.data, this.#setting);
    }
    await this.addStored(record, stored);
  }

  /**
   * {@link add} with a normal IO's data already stored by {@link storeData} with this writer's
   * compression setting (elsewhere, e.g. in a worker); the bytes written are the same.
   *
   * @param record the IO (its `data` is not read when `stored` is given)
   * @param stored the stored form of a normal IO's data; undefined for other kinds
   */
  async addStored(record: DiffRecord, stored: StoredData | undefined): Promise<void> {
    assert(!this.#closed, "add() after close()");
    assert(Number.isSafeInteger(record.ioAddress) && record.ioAddress >= 0, "bad io_address");
    assert(record.ioBlocks >= 0 && record.ioBlocks <= 0xffffffff, "io_blocks out of u32");
    await this.#ensureHeader();
    const image: IoImage = {
      flags: flagsOfKind(record.kind),
      compressionType: 0,
      dataOffset: this.#position,
      dataSize: 0,
      origBlocks: 0,
      ioChecksum: 0,
    };
    if (record.kind === "normal") {
      assert(stored !== undefined, "normal record without data");
      assert(record.ioBlocks > 0, "normal record without blocks");
      assert(stored.stored.length <= record.ioBlocks * 512, "stored data larger than the IO");
      await this.#writer.write(stored.stored);
      this.#position += stored.stored.length;
      image.compressionType = stored.compressionType;
      image.dataSize = stored.stored.length;
      image.origBlocks = record.ioBlocks;
      image.ioChecksum = stored.checksum;
    }
    this.#dataCount++;
    assert(this.#dataCount <= 0xffffffff, "n_data out of u32");
    const whole = { ioAddress: record.ioAddress, ioBlocks: record.ioBlocks, ioOffset: 0, image };
    this.#insertIo(whole);
  }

  /**
   * Newest-wins insertion of the aligned pieces of one IO (§5.5 step 4), all at once: the
   * index entries overlapping the IO go, and the parts of the first and last one outside it
   * come back, re-split. This is what inserting the pieces one by one gives: pieces of an IO
   * are contiguous, so only those two entries can reach outside it, and `splitAligned` splits
   * the rest of a piece cut at any address as it splits that rest alone.
   */
  #insertIo(whole: Piece): void {
    const start = whole.ioAddress;
    const end = start + whole.ioBlocks;
    const removed = this.#index.removeOverlapping(start, end);
    const entries: Piece[] = [];
    const first = removed[0];
    if (first !== undefined && first.ioAddress < start) {
      this.#pushParts(entries, first, first.ioAddress, start);
    }
    this.#pushParts(entries, whole, start, end);
    const last = removed[removed.length - 1];
    if (last !== undefined && last.ioAddress + last.ioBlocks > end) {
      this.#pushParts(entries, last, end, last.ioAddress + last.ioBlocks);
    }
    this.#index.insertAll(entries);
  }

  /** Appends the aligned pieces of `[start, end)` of `entry` (an IO or a removed piece). */
  #pushParts(entries: Piece[], entry: Piece, start: number, end: number): void {
    const { image } = entry;
    const ioOffset = entry.ioOffset - entry.ioAddress;
    forEachAligned(start, end - start, this.#maxIoBlocks, (address, blocks) => {
      entries.push({ ioAddress: address, ioBlocks: blocks, ioOffset: ioOffset + address, image });
    });
  }

  /** Pads to 8, writes the index and the super block, then flushes the writer. */
  async close(): Promise<void> {
    assert(!this.#closed, "close() twice");
    this.#closed = true;
    await this.#ensureHeader();
    const padding = (8 - (this.#position % 8)) % 8;
    if (padding > 0) await this.#writer.write(new Uint8Array(padding));
    const indexOffset = this.#position + padding;
    const batch = new Uint8Array(INDEX_WRITE_BATCH * INDEX_RECORD_SIZE);
    let count = 0;
    let inBatch = 0;
    let previousEnd = 0;
    for (const piece of this.#index.values()) {
      assert(piece.ioAddress >= previousEnd, "index pieces overlap");
      previousEnd = piece.ioAddress + piece.ioBlocks;
      const { ioAddress, ioBlocks, ioOffset, image } = piece;
      const record = { ...image, ioAddress, ioBlocks, ioOffset, reserved2: 0, recChecksum: 0 };
      encodeIndexRecord(record, batch, inBatch * INDEX_RECORD_SIZE);
      inBatch++;
      count++;
      if (inBatch === INDEX_WRITE_BATCH) {
        await this.#writer.write(batch);
        inBatch = 0;
      }
    }
    if (inBatch > 0) await this.#writer.write(batch.subarray(0, inBatch * INDEX_RECORD_SIZE));
    assert(count <= 0xffffffff, "n_records out of u32");
    await this.#writer.write(buildIndexSuper(indexOffset, count, this.#dataCount));
    await this.#writer.flush();
  }
}
