/**
 * Random-access reader of indexed wdiff files (wdiff-and-archive.md §5.6): header and super
 * block, then the index in file order, with decompressed images cached by data_offset in a
 * size-bounded LRU.
 *
 * @module
 */
import { CorruptDataError } from "../../errors.ts";
import { WDIFF_READER_LIMITS } from "../../limits.ts";
import type { RandomAccessSource } from "../../io/random_access.ts";
import type { DiffRecord } from "./diff_record.ts";
import { parseWdiffHeader, WDIFF_HEADER_SIZE, type WdiffHeader, WdiffType } from "./file_header.ts";
import {
  decodeIndexRecord,
  INDEX_RECORD_SIZE,
  INDEX_SUPER_SIZE,
  type IndexRecord,
  indexRecordProblem,
  type IndexSuper,
  parseIndexSuper,
} from "./indexed_format.ts";
import { checkRecordOrder } from "./pack_header.ts";
import { kindOfFlags } from "./record.ts";
import { LazyDataRecord } from "./lazy_record.ts";
import { decodeStoredData, loadData, verifyStoredChecksum } from "./stored_data.ts";

/** An index record as read, with where it is and what is wrong with it (null if valid). */
export interface RawIndexRecord {
  record: IndexRecord;
  /** File offset of the 48-byte record. */
  offset: number;
  problem: string | null;
}

interface CachedImage {
  image: Uint8Array;
  /** The record fields the image was verified against. */
  key: string;
}

function imageKey(record: IndexRecord): string {
  return `${record.dataSize}:${record.compressionType}:${record.ioChecksum}:${record.origBlocks}`;
}

/** Options of {@link IndexedWdiffReader.open}. */
export interface IndexedWdiffReaderOptions {
  /** Image cache size [bytes] (default 32 MiB). */
  cacheSizeMax?: number;
}

/**
 * Reader of one indexed wdiff over a {@link RandomAccessSource}.
 *
 * @example
 * ```ts
 * import { MemoryRandomAccess } from "../../io/random_access.ts";
 * import { BufferedWriter, MemorySink } from "../../io/stream.ts";
 * import { IndexedWdiffReader } from "./indexed_reader.ts";
 * import { IndexedWdiffWriter } from "./indexed_writer.ts";
 * const sink = new MemorySink();
 * const writer = new IndexedWdiffWriter(new BufferedWriter(sink));
 * await writer.add({ ioAddress: 5, ioBlocks: 3, kind: "discard", data: null });
 * await writer.close();
 * const reader = await IndexedWdiffReader.open(new MemoryRandomAccess(sink.bytes()));
 * let blocks = 0;
 * for await (const record of reader.records()) blocks += record.ioBlocks;
 * if (blocks !== 3 || reader.recordCount !== 2) throw new Error("wrong");
 * ```
 */
export class IndexedWdiffReader {
  /** Discriminates the readers returned by `openWdiff`. */
  readonly format = "indexed";
  readonly header: WdiffHeader;
  readonly superBlock: IndexSuper;
  /** Number of index records (from the file size, as the original reads them). */
  readonly recordCount: number;
  #source: RandomAccessSource;
  #cache = new Map<number, CachedImage>();
  #cacheSize = 0;
  #cacheSizeMax: number;

  private constructor(
    source: RandomAccessSource,
    header: WdiffHeader,
    superBlock: IndexSuper,
    recordCount: number,
    cacheSizeMax: number,
  ) {
    this.#source = source;
    this.header = header;
    this.superBlock = superBlock;
    this.recordCount = recordCount;
    this.#cacheSizeMax = cacheSizeMax;
  }

  /**
   * Reads and validates the header (type indexed) and the super block.
   *
   * @throws {ChecksumMismatchError} on a bad header or super checksum
   * @throws {CorruptDataError} on a short file, a sorted header or a bad index offset
   */
  static async open(
    source: RandomAccessSource,
    options: IndexedWdiffReaderOptions = {},
  ): Promise<IndexedWdiffReader> {
    if (source.size < WDIFF_HEADER_SIZE + INDEX_SUPER_SIZE) {
      throw new CorruptDataError(
        "indexed wdiff",
        0,
        `file is ${source.size} bytes, at least 56 expected`,
      );
    }
    const header = parseWdiffHeader(await source.readAt(0, WDIFF_HEADER_SIZE));
    if (header.type !== WdiffType.indexed) {
      throw new CorruptDataError("wdiff header", 0, "type is sorted, expected indexed");
    }
    const superBytes = await source.readAt(source.size - INDEX_SUPER_SIZE, INDEX_SUPER_SIZE);
    const { superBlock, recordCount } = parseIndexSuper(superBytes, source.size);
    return new IndexedWdiffReader(
      source,
      header,
      superBlock,
      recordCount,
      options.cacheSizeMax ?? WDIFF_READER_LIMITS.indexedImageCacheSizeMax,
    );
  }

  /** Start of the index = end of the data area. */
  get indexOffset(): number {
    return this.superBlock.indexOffset;
  }

  /** Bytes of the data area (index start − 32), the dataSize of diff statistics. */
  get dataAreaSize(): number {
    return this.superBlock.indexOffset - WDIFF_HEADER_SIZE;
  }

  /**
   * Every index record in file order, decoded without throwing for invalid field values.
   *
   * @throws {CorruptDataError} only when the file cannot be read or an address is past 2^53
   */
  async *rawIndexRecords(): AsyncGenerator<RawIndexRecord> {
    const perRead = WDIFF_READER_LIMITS.indexedRecordsPerRead;
    for (let first = 0; first < this.recordCount; first += perRead) {
      const count = Math.min(perRead, this.recordCount - first);
      const base = this.indexOffset + first * INDEX_RECORD_SIZE;
      const bytes = await this.#source.readAt(base, count * INDEX_RECORD_SIZE);
      for (let i = 0; i < count; i++) {
        const at = i * INDEX_RECORD_SIZE;
        const record = decodeIndexRecord(bytes, at, base + at);
        const problem = indexRecordProblem(
          record,
          bytes.subarray(at, at + INDEX_RECORD_SIZE),
          this.indexOffset,
        );
        yield { record, offset: base + at, problem };
      }
    }
  }

  /**
   * Every index record, validated and checked to be in increasing non-overlapping order.
   *
   * @throws {CorruptDataError} on an invalid or out-of-order record
   */
  async *indexRecords(): AsyncGenerator<RawIndexRecord & { problem: null }> {
    let previousEnd = 0;
    for await (const raw of this.rawIndexRecords()) {
      if (raw.problem !== null) {
        throw new CorruptDataError("wdiff index record", raw.offset, raw.problem);
      }
      previousEnd = checkRecordOrder(raw.record, previousEnd, "wdiff index record", raw.offset);
      yield { ...raw, problem: null };
    }
  }

  /**
   * The decompressed image a normal record refers to (verified; cached by data_offset).
   *
   * @param record a valid normal index record
   * @returns orig_blocks × 512 bytes; do not modify
   * @throws {ChecksumMismatchError} when csum(image) differs from io_checksum
   * @throws {CorruptDataError} when decompression fails or gives another size
   */
  async readImage(record: IndexRecord): Promise<Uint8Array> {
    const cached = this.#cache.get(record.dataOffset);
    if (cached !== undefined && cached.key === imageKey(record)) {
      this.#cache.delete(record.dataOffset);
      this.#cache.set(record.dataOffset, cached);
      return cached.image;
    }
    const stored = await this.#source.readAt(record.dataOffset, record.dataSize);
    const image = loadData(
      stored,
      {
        compressionType: record.compressionType,
        checksum: record.ioChecksum,
        outputSize: record.origBlocks * 512,
      },
      "wdiff indexed image",
      record.dataOffset,
      false,
    );
    this.#remember(record.dataOffset, { image, key: imageKey(record) });
    return image;
  }

  #remember(offset: number, entry: CachedImage): void {
    const size = entry.image.length;
    if (size > this.#cacheSizeMax) return;
    const old = this.#cache.get(offset);
    if (old !== undefined) {
      this.#cache.delete(offset);
      this.#cacheSize -= old.image.length;
    }
    while (this.#cacheSize + size > this.#cacheSizeMax) {
      const oldest = this.#cache.entries().next();
      if (oldest.done === true) break;
      this.#cache.delete(oldest.value[0]);
      this.#cacheSize -= oldest.value[1].image.length;
    }
    this.#cache.set(offset, entry);
    this.#cacheSize += size;
  }

  /**
   * Every record as an uncompressed diff record, in increasing non-overlapping address order.
   *
   * @throws {ChecksumMismatchError} on a bad image checksum
   * @throws {CorruptDataError} on any other corruption
   */
  async *records(): AsyncGenerator<DiffRecord> {
    for await (const { record } of this.indexRecords()) {
      const kind = kindOfFlags(record.flags) ?? "normal";
      if (kind !== "normal") {
        yield { ioAddress: record.ioAddress, ioBlocks: record.ioBlocks, kind, data: null };
        continue;
      }
      const image = await this.readImage(record);
      const data = image.slice(record.ioOffset * 512, (record.ioOffset + record.ioBlocks) * 512);
      yield { ioAddress: record.ioAddress, ioBlocks: record.ioBlocks, kind, data };
    }
  }

  /**
   * {@link records}, except that a record covering a whole stored image (io_offset 0,
   * io_blocks = orig_blocks) not cached yet comes as a {@link LazyDataRecord} with its verified
   * stored form: decompressed only if its data is used, so a writer with the same codec can
   * copy the stored bytes (`reusableStoredForm`). Why: the proxy forwards most records of its
   * indexed wdiffs whole, and decompressing and compressing them again was most of its work.
   *
   * @throws {ChecksumMismatchError} on a bad stored checksum
   * @throws {CorruptDataError} on any other corruption (a lazy record's decompression errors
   *   when its data is used)
   */
  async *lazyRecords(): AsyncGenerator<DiffRecord> {
    for await (const { record } of this.indexRecords()) {
      const kind = kindOfFlags(record.flags) ?? "normal";
      const whole = record.ioOffset === 0 && record.ioBlocks === record.origBlocks;
      if (kind !== "normal" || !whole || this.#cache.has(record.dataOffset)) {
        if (kind !== "normal") {
          yield { ioAddress: record.ioAddress, ioBlocks: record.ioBlocks, kind, data: null };
          continue;
        }
        const image = await this.readImage(record);
        const data = image.slice(record.ioOffset * 512, (record.ioOffset + record.ioBlocks) * 512);
        yield { ioAddress: record.ioAddress, ioBlocks: record.ioBlocks, kind, data };
        continue;
      }
      const stored = await this.#source.readAt(record.dataOffset, record.dataSize);
      const info = {
        compressionType: record.compressionType,
        checksum: record.ioChecksum,
        outputSize: record.origBlocks * 512,
      };
      const what = "wdiff indexed image";
      verifyStoredChecksum(stored, info, what, record.dataOffset);
      yield new LazyDataRecord(
        record.ioAddress,
        record.ioBlocks,
        () => decodeStoredData(stored, info, what, record.dataOffset),
        { compressionType: record.compressionType, stored, checksum: record.ioChecksum },
      );
    }
  }

  /** Closes the source. */
  close(): void {
    this.#source.close?.();
  }
}
