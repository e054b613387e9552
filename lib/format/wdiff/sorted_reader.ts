/**
 * Streaming reader of sorted wdiff files (wdiff-and-archive.md §4.5) over a
 * {@link BufferedReader}, at two levels: raw packs (block + stored payload, for wdiff-show and
 * for forwarding packs verbatim) and uncompressed {@link DiffRecord}s.
 *
 * @module
 */
import { assert, CorruptDataError } from "../../errors.ts";
import type { BufferedReader } from "../../io/stream.ts";
import type { DiffRecord } from "./diff_record.ts";
import { parseWdiffHeader, WDIFF_HEADER_SIZE, type WdiffHeader, WdiffType } from "./file_header.ts";
import {
  checkRecordOrder,
  decodePackHeader,
  isEndPack,
  PACK_HEADER_FIXED_SIZE,
  PACK_HEADER_SIZE,
  type PackHeader,
  validatePackHeader,
} from "./pack_header.ts";
import { kindOfFlags, SORTED_RECORD_SIZE, type SortedRecord } from "./record.ts";
import { LazyDataRecord } from "./lazy_record.ts";
import {
  decodeStoredData,
  decodeStoredDataInto,
  loadData,
  verifyStoredChecksum,
} from "./stored_data.ts";

/** A pack header block as read, not yet validated. */
export interface PackBlock {
  /** File offset of the block. */
  offset: number;
  /** The 4096 bytes (a copy). */
  block: Uint8Array;
  header: PackHeader;
}

/** A validated pack with its stored payload. */
export interface RawPack extends PackBlock {
  /** The stored payload, `header.totalSize` bytes. */
  payload: Uint8Array;
}

/** Options of {@link decodePackRecords}. */
export interface DecodePackRecordsOptions {
  /**
   * Defer decompression to the first use of each record's data ({@link LazyDataRecord});
   * checksums are still verified now. For merges, which drop most of what they read.
   */
  lazy?: boolean;
  /**
   * Give uncompressed records views of the pack's payload instead of copies (default false).
   * For consumers that use each record's data before the payload could change, e.g. an apply
   * that writes it out at once, or a merge whose payloads are fresh per pack and freed only
   * once written (with `lazy`): one copy less of every raw byte.
   */
  shareRaw?: boolean;
}

/** What a record's data is called in errors. */
const RECORD_DATA = "wdiff record data";

/** A normal record's stored bytes in `pack`, how to decode them, and their file offset. */
function storedDataOf(pack: RawPack, record: SortedRecord) {
  return {
    stored: pack.payload.subarray(record.dataOffset, record.dataOffset + record.dataSize),
    info: {
      compressionType: record.compressionType,
      checksum: record.checksum,
      outputSize: record.ioBlocks * 512,
    },
    offset: pack.offset + PACK_HEADER_SIZE + record.dataOffset,
  };
}

/**
 * Decodes the records of a validated pack into uncompressed diff records, verifying every
 * data checksum.
 *
 * @param pack a pack from {@link SortedWdiffReader.readPack} (or built by a writer)
 * @param options `lazy` defers decompression (a failure is then thrown at first data access)
 * @returns the records in pack order
 * @throws {ChecksumMismatchError} when a record's stored data does not verify
 * @throws {CorruptDataError} when a record's data does not decompress to io_blocks × 512 bytes
 */
export function decodePackRecords(
  pack: RawPack,
  options: DecodePackRecordsOptions = {},
): DiffRecord[] {
  return pack.header.records.map((record) => {
    const kind = kindOfFlags(record.flags) ?? "normal";
    if (kind !== "normal") {
      return { ioAddress: record.ioAddress, ioBlocks: record.ioBlocks, kind, data: null };
    }
    const { stored, info, offset } = storedDataOf(pack, record);
    const what = RECORD_DATA;
    if (options.lazy === true) {
      verifyStoredChecksum(stored, info, what, offset);
      const share = options.shareRaw === true;
      return new LazyDataRecord(
        record.ioAddress,
        record.ioBlocks,
        () => decodeStoredData(stored, info, what, offset, !share),
        { compressionType: record.compressionType, stored, checksum: record.checksum },
      );
    }
    const data = loadData(stored, info, what, offset, options.shareRaw !== true);
    return { ioAddress: record.ioAddress, ioBlocks: record.ioBlocks, kind, data };
  });
}

/**
 * The records of a validated pack one at a time, verifying every data checksum: raw data as
 * views of the payload, compressed data decoded into `scratch`'s buffer, which the next record
 * reuses. Why: a consumer that writes each record out before asking for the next
 * (wdiff-redo) then needs no fresh array per record (318 MB for the issue #3 redo).
 *
 * @param pack a pack from {@link SortedWdiffReader.readPack}
 * @param scratch the reused buffer (grown when a record needs more)
 * @throws {ChecksumMismatchError} / {CorruptDataError} when the record asked for is bad (the
 *   records before it were yielded)
 */
export function* decodePackRecordsReusing(
  pack: RawPack,
  scratch: ScratchBuffer,
): Generator<DiffRecord> {
  for (const record of pack.header.records) {
    const kind = kindOfFlags(record.flags) ?? "normal";
    if (kind !== "normal") {
      yield { ioAddress: record.ioAddress, ioBlocks: record.ioBlocks, kind, data: null };
      continue;
    }
    const { stored, info, offset } = storedDataOf(pack, record);
    const what = RECORD_DATA;
    verifyStoredChecksum(stored, info, what, offset);
    let data: Uint8Array;
    if (info.compressionType === 0) {
      data = decodeStoredData(stored, info, what, offset, false);
    } else {
      data = scratch.take(info.outputSize);
      decodeStoredDataInto(stored, info, data, what, offset);
    }
    yield { ioAddress: record.ioAddress, ioBlocks: record.ioBlocks, kind, data };
  }
}

/** Options of {@link SortedWdiffReader.readPack}. */
export interface ReadPackOptions {
  /**
   * Read the payload into a buffer the reader reuses for the next pack (default false: a
   * fresh array per pack). Why: a consumer that is done with each pack before asking for the
   * next (wdiff-redo) then faults in no fresh memory per pack (78 MB for the issue #3 redo).
   */
  reusePayload?: boolean;
  /**
   * Gives the array to read a payload of `size` bytes into (exactly `size` long, owned by the
   * caller's pool), instead of a fresh one; ignored with `reusePayload`. Why: a merge frees
   * each payload once written, and fresh arrays are zeroed and faulted in page by page.
   */
  allocatePayload?: (size: number) => Uint8Array;
}

/** A buffer reused by {@link decodePackRecordsReusing}, grown on demand. */
export class ScratchBuffer {
  #bytes = new Uint8Array(0);

  /** The first `size` bytes of the buffer (a bigger one when needed); contents undefined. */
  take(size: number): Uint8Array {
    if (this.#bytes.length < size) {
      this.#bytes = new Uint8Array(Math.max(size, 2 * this.#bytes.length, 1024 * 1024));
    }
    return this.#bytes.subarray(0, size);
  }
}

/** The stored bytes of `record` within `pack`'s payload. */
export function storedBytesOf(pack: RawPack, record: SortedRecord): Uint8Array {
  return pack.payload.subarray(record.dataOffset, record.dataOffset + record.dataSize);
}

/**
 * Sequential reader of one sorted wdiff.
 *
 * @example
 * ```ts
 * import { BufferedReader, MemorySource } from "../../io/stream.ts";
 * import { buildEndPack } from "./pack_header.ts";
 * import { buildWdiffHeader, WdiffType } from "./file_header.ts";
 * import { SortedWdiffReader } from "./sorted_reader.ts";
 * const bytes = new Uint8Array(32 + 4096);
 * bytes.set(buildWdiffHeader(WdiffType.sorted, new Uint8Array(16)));
 * bytes.set(buildEndPack(), 32);
 * const reader = await SortedWdiffReader.open(new BufferedReader(new MemorySource(bytes)));
 * for await (const _ of reader.records()) throw new Error("no record expected");
 * ```
 */
export class SortedWdiffReader {
  /** Discriminates the readers returned by `openWdiff`. */
  readonly format = "sorted";
  readonly header: WdiffHeader;
  #reader: BufferedReader;
  /** The payload buffer of {@link ReadPackOptions.reusePayload}. */
  #payloadScratch = new Uint8Array(0);
  #previousEnd = 0;
  #done = false;

  /**
   * Wraps a reader positioned just after an already validated sorted header.
   * Prefer {@link SortedWdiffReader.open}.
   */
  constructor(reader: BufferedReader, header: WdiffHeader) {
    this.#reader = reader;
    this.header = header;
  }

  /**
   * Reads and validates the file header, which must be of type sorted.
   *
   * @throws {CorruptDataError} on a short, corrupt or indexed header
   */
  static async open(reader: BufferedReader): Promise<SortedWdiffReader> {
    const bytes = await reader.readRequired(WDIFF_HEADER_SIZE, "wdiff header");
    const header = parseWdiffHeader(bytes);
    if (header.type !== WdiffType.sorted) {
      throw new CorruptDataError("wdiff header", 0, "type is indexed, expected sorted");
    }
    return new SortedWdiffReader(reader, header);
  }

  /**
   * Reads the next 4096-byte pack block without validating it.
   *
   * @returns the block, or null at a clean end of file
   * @throws {CorruptDataError} when the file ends inside the block
   */
  async readPackBlock(): Promise<PackBlock | null> {
    const offset = this.#reader.position;
    const view = await this.#reader.readExact(PACK_HEADER_SIZE, "wdiff pack header");
    if (view === null) return null;
    const block = view.slice();
    return { offset, block, header: decodePackHeader(block, offset) };
  }

  /**
   * Reads the payload of a pack whose header was validated (by {@link validatePackHeader}).
   *
   * @throws {CorruptDataError} when the file ends inside the payload
   */
  async readPackPayload(pack: PackBlock, options: ReadPackOptions = {}): Promise<RawPack> {
    const size = pack.header.totalSize;
    let payload: Uint8Array;
    if (options.reusePayload === true) {
      if (this.#payloadScratch.length < size) this.#payloadScratch = new Uint8Array(size);
      payload = this.#payloadScratch.subarray(0, size);
    } else if (options.allocatePayload !== undefined && size > 0) {
      payload = options.allocatePayload(size);
      assert(payload.length === size, "allocated payload size differs");
    } else {
      payload = new Uint8Array(size);
    }
    if (payload.length > 0) await this.#reader.readExactInto(payload, "wdiff pack payload");
    return { ...pack, payload };
  }

  /**
   * Reads, validates and order-checks the next pack.
   *
   * @returns the pack, or null after the END pack or at a clean end of file (a missing END
   *   pack is tolerated)
   * @throws {ChecksumMismatchError} on a bad pack checksum
   * @throws {CorruptDataError} on an invalid pack, truncation, or records out of order
   */
  async readPack(options: ReadPackOptions = {}): Promise<RawPack | null> {
    if (this.#done) return null;
    const pack = await this.readPackBlock();
    if (pack === null) {
      this.#done = true;
      return null;
    }
    validatePackHeader(pack.header, pack.block, pack.offset);
    if (isEndPack(pack.header)) {
      this.#done = true;
      return null;
    }
    for (const [i, record] of pack.header.records.entries()) {
      const at = pack.offset + PACK_HEADER_FIXED_SIZE + i * SORTED_RECORD_SIZE;
      this.#previousEnd = checkRecordOrder(record, this.#previousEnd, `wdiff record ${i}`, at);
    }
    return await this.readPackPayload(pack, options);
  }

  /** Every remaining pack (see {@link readPack}). */
  async *packs(options: ReadPackOptions = {}): AsyncGenerator<RawPack> {
    for (;;) {
      const pack = await this.readPack(options);
      if (pack === null) return;
      yield pack;
    }
  }

  /**
   * Every remaining record, uncompressed, in increasing non-overlapping address order.
   *
   * @throws {ChecksumMismatchError} on a bad pack or data checksum
   * @throws {CorruptDataError} on any other corruption
   */
  async *records(): AsyncGenerator<DiffRecord> {
    for await (const pack of this.packs()) yield* decodePackRecords(pack);
  }
}
