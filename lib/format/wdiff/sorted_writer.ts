/**
 * Sorted wdiff writers (wdiff-and-archive.md §4.6): variant A compresses each record before
 * the pack "can add" test; variant B packs by uncompressed size and compresses a pack when it
 * is complete. Also the variant B pack builder, reused by the network code.
 *
 * @module
 */
import { assert } from "../../errors.ts";
import type { BufferedWriter } from "../../io/stream.ts";
import type { DiffRecord } from "./diff_record.ts";
import { buildWdiffHeader, WDIFF_UUID_SIZE, WdiffType } from "./file_header.ts";
import {
  buildEndPack,
  buildPackHeader,
  decodePackHeader,
  PACK_HEADER_SIZE,
  packCanAdd,
  validatePackHeader,
} from "./pack_header.ts";
import { LazyDataRecord, type StoredForm } from "./lazy_record.ts";
import { flagsOfKind, type SortedRecord } from "./record.ts";
import { type CompressionSetting, DEFAULT_COMPRESSION, storeData } from "./stored_data.ts";

/** A record in stored form with its stored bytes (empty for all-zero/discard records). */
export interface StoredRecord {
  /** The record; `dataOffset` is assigned when the pack is built. */
  record: SortedRecord;
  stored: Uint8Array;
}

/** A built pack: the sealed 4096-byte block and its payload. */
export interface BuiltPack {
  block: Uint8Array;
  payload: Uint8Array;
}

/**
 * The stored form of `record` that a writer with `setting` may copy as is, or undefined: a
 * whole record read from a sorted wdiff ({@link LazyDataRecord} with its verified stored
 * bytes) already compressed with the same codec, when the level is the default. Why: a merge
 * passes most surviving records through unchanged, and decompressing and compressing them
 * again was most of its time. The stored bytes are then the input encoder's, which equal ours
 * for inputs written by walb-ts or by the original (docs/compatibility.md).
 *
 * @param record a diff record
 * @param setting the writer's codec and level
 */
export function reusableStoredForm(
  record: DiffRecord,
  setting: CompressionSetting,
): StoredForm | undefined {
  if (!(record instanceof LazyDataRecord) || setting.level !== 0) return undefined;
  const form = record.storedForm;
  if (form === undefined || form.compressionType !== setting.type) return undefined;
  // Sizes the "only if smaller" rule cannot make: load (and report) the data instead.
  const size = record.ioBlocks * 512;
  if (form.compressionType === 0 ? form.stored.length !== size : form.stored.length >= size) {
    return undefined;
  }
  return form;
}

/**
 * csum(data, 0) of a whole record read raw whose data is its verified stored bytes (shared,
 * see `DecodePackRecordsOptions.shareRaw`), else undefined. Why: a merge to snappy stores
 * most surviving raw records raw again, and summing them again cost as much as their copy.
 */
function rawChecksumOf(record: DiffRecord): number | undefined {
  if (!(record instanceof LazyDataRecord)) return undefined;
  const form = record.storedForm;
  if (form === undefined || form.compressionType !== 0) return undefined;
  return form.stored === record.data ? form.checksum : undefined;
}

/** A normal record in stored form from its already stored bytes. */
export function storedRecordOf(
  record: Pick<DiffRecord, "ioAddress" | "ioBlocks">,
  form: StoredForm,
): StoredRecord {
  assert(form.stored.length <= record.ioBlocks * 512, "stored bytes larger than the data");
  return {
    record: {
      ioAddress: record.ioAddress,
      ioBlocks: record.ioBlocks,
      flags: flagsOfKind("normal"),
      dataOffset: 0,
      compressionType: form.compressionType,
      dataSize: form.stored.length,
      checksum: form.checksum,
    },
    stored: form.stored,
  };
}

/**
 * Converts one diff record to stored form, compressing normal data "only if smaller" (or
 * copying its stored form, see {@link reusableStoredForm}).
 *
 * @param record an uncompressed record
 * @param setting codec and level for normal data
 */
export function storeDiffRecord(record: DiffRecord, setting: CompressionSetting): StoredRecord {
  const form = reusableStoredForm(record, setting);
  if (form !== undefined) return storedRecordOf(record, form);
  assert(record.ioBlocks > 0 || record.kind !== "normal", "normal record without blocks");
  const base = {
    ioAddress: record.ioAddress,
    ioBlocks: record.ioBlocks,
    flags: flagsOfKind(record.kind),
    dataOffset: 0,
  };
  if (record.kind !== "normal") {
    return {
      record: { ...base, compressionType: 0, dataSize: 0, checksum: 0 },
      stored: new Uint8Array(0),
    };
  }
  assert(record.data !== null, "normal record without data");
  assert(record.data.length === record.ioBlocks * 512, "record data size differs from io_blocks");
  const data = storeData(record.data, setting, rawChecksumOf(record));
  return {
    record: {
      ...base,
      compressionType: data.compressionType,
      dataSize: data.stored.length,
      checksum: data.checksum,
    },
    stored: data.stored,
  };
}

/**
 * Builds a pack from stored records: assigns data offsets, seals the block and concatenates
 * the payload. The result is validated before it is returned.
 *
 * @param records 1..127 stored records in address order
 */
export function buildPack(records: readonly StoredRecord[]): BuiltPack {
  const { block, parts, payloadSize } = buildPackParts(records);
  const payload = new Uint8Array(payloadSize);
  let offset = 0;
  for (const part of parts) {
    payload.set(part, offset);
    offset += part.length;
  }
  return { block, payload };
}

/**
 * {@link buildPack} without joining the payload: the sealed, validated block and the stored
 * bytes in payload order. Why: a writer that copies into its own buffer anyway saves a copy
 * (and a large allocation) of every pack's payload.
 *
 * @param records 1..127 stored records in address order
 */
export function buildPackParts(
  records: readonly StoredRecord[],
): { block: Uint8Array; parts: Uint8Array[]; payloadSize: number } {
  assert(records.length > 0, "a pack needs at least one record");
  let offset = 0;
  const placed = records.map(({ record, stored }) => {
    const dataOffset = offset;
    offset += stored.length;
    return { ...record, dataOffset };
  });
  const block = buildPackHeader(placed);
  validatePackHeader(decodePackHeader(block), block, 0);
  return { block, parts: records.map(({ stored }) => stored), payloadSize: offset };
}

/**
 * Variant B pack builder: compresses every normal record of an uncompressed pack and builds it.
 * The caller grouped `records` with {@link packCanAdd} on uncompressed sizes.
 *
 * @param records 1..127 uncompressed records in address order
 * @param setting codec and level
 */
export function buildCompressedPack(
  records: readonly DiffRecord[],
  setting: CompressionSetting = DEFAULT_COMPRESSION,
): BuiltPack {
  return buildPack(records.map((record) => storeDiffRecord(record, setting)));
}

/** Size a record counts for in variant B's "can add" test. */
export function uncompressedSizeOf(record: DiffRecord): number {
  return record.kind === "normal" ? record.ioBlocks * 512 : 0;
}

/** Options of {@link SortedWdiffWriter}. */
export interface SortedWdiffWriterOptions {
  /** Header UUID (default all zero). */
  uuid?: Uint8Array;
  /** Codec and level (default snappy:0). */
  compression?: CompressionSetting;
  /** "A" compress first (default), "B" pack first. */
  variant?: "A" | "B";
  /**
   * Called with the records of each pack once its bytes are written to the BufferedWriter
   * (copied or sent): their data is no longer needed by the writer.
   */
  onPackWritten?: (records: readonly DiffRecord[]) => void;
}

/**
 * Writes a sorted wdiff to a {@link BufferedWriter}: header, packs, END pack.
 * Records must come in increasing non-overlapping address order.
 *
 * @example
 * ```ts
 * import { BufferedWriter, MemorySink } from "../../io/stream.ts";
 * import { SortedWdiffWriter } from "./sorted_writer.ts";
 * const sink = new MemorySink();
 * const writer = new SortedWdiffWriter(new BufferedWriter(sink));
 * await writer.add({ ioAddress: 0, ioBlocks: 8, kind: "allZero", data: null });
 * await writer.close();
 * if (sink.bytes().length !== 32 + 4096 + 4096) throw new Error("wrong");
 * ```
 */
export class SortedWdiffWriter {
  #writer: BufferedWriter;
  #uuid: Uint8Array;
  #setting: CompressionSetting;
  #variant: "A" | "B";
  #headerWritten = false;
  #closed = false;
  #previousEnd = 0;
  #pendingStored: StoredRecord[] = [];
  /** Variant A: the records of #pendingStored; variant B: the records to compress. */
  #pendingRaw: DiffRecord[] = [];
  #onPackWritten: ((records: readonly DiffRecord[]) => void) | undefined;
  #pendingSize = 0;

  constructor(writer: BufferedWriter, options: SortedWdiffWriterOptions = {}) {
    this.#writer = writer;
    this.#uuid = options.uuid ?? new Uint8Array(WDIFF_UUID_SIZE);
    assert(this.#uuid.length === WDIFF_UUID_SIZE, "uuid must be 16 bytes");
    this.#setting = options.compression ?? DEFAULT_COMPRESSION;
    this.#variant = options.variant ?? "A";
    this.#onPackWritten = options.onPackWritten;
  }

  async #ensureHeader(): Promise<void> {
    if (this.#headerWritten) return;
    this.#headerWritten = true;
    await this.#writer.write(buildWdiffHeader(WdiffType.sorted, this.#uuid));
  }

  /**
   * Adds one record. The writer may keep `record.data` (uncompressed or as stored) until its
   * pack is written: do not modify it afterwards.
   *
   * @param record uncompressed, starting at or after the previous record's end
   */
  async add(record: DiffRecord): Promise<void> {
    assert(!this.#closed, "add() after close()");
    assert(record.ioAddress >= this.#previousEnd, "records must not overlap or go backwards");
    this.#previousEnd = record.ioAddress + record.ioBlocks;
    await this.#ensureHeader();
    if (this.#variant === "A") {
      const stored = storeDiffRecord(record, this.#setting);
      const size = stored.stored.length;
      if (!packCanAdd(this.#pendingStored.length, this.#pendingSize, size)) {
        await this.#flushPack();
      }
      this.#pendingStored.push(stored);
      this.#pendingRaw.push(record);
      this.#pendingSize += size;
    } else {
      const size = uncompressedSizeOf(record);
      if (!packCanAdd(this.#pendingRaw.length, this.#pendingSize, size)) await this.#flushPack();
      this.#pendingRaw.push(record);
      this.#pendingSize += size;
    }
  }

  /**
   * Writes a pack verbatim (a validated block and its payload, e.g. received from a peer),
   * after any pending records.
   */
  async addPack(block: Uint8Array, payload: Uint8Array): Promise<void> {
    await this.addPackParts(block, [payload]);
  }

  /**
   * {@link addPack} with the payload in parts (e.g. from {@link buildPackParts}), written in
   * order: no joined copy of the payload. The parts are copied or written before this returns.
   */
  async addPackParts(block: Uint8Array, parts: readonly Uint8Array[]): Promise<void> {
    assert(!this.#closed, "addPack() after close()");
    assert(block.length === PACK_HEADER_SIZE, "pack block must be 4096 bytes");
    const header = decodePackHeader(block);
    let payloadSize = 0;
    for (const part of parts) payloadSize += part.length;
    assert(header.totalSize === payloadSize, "payload size differs from total_size");
    const first = header.records[0];
    const last = header.records[header.records.length - 1];
    if (first !== undefined && last !== undefined) {
      assert(first.ioAddress >= this.#previousEnd, "packs must not overlap or go backwards");
      this.#previousEnd = last.ioAddress + last.ioBlocks;
    }
    await this.#ensureHeader();
    await this.#flushPack();
    await this.#writer.write(block);
    for (const part of parts) await this.#writer.write(part);
  }

  async #flushPack(): Promise<void> {
    const records = this.#pendingRaw;
    const stored = this.#variant === "A"
      ? this.#pendingStored
      : records.map((record) => storeDiffRecord(record, this.#setting));
    this.#pendingStored = [];
    this.#pendingRaw = [];
    this.#pendingSize = 0;
    if (stored.length === 0) return;
    const pack = buildPackParts(stored);
    await this.#writer.write(pack.block);
    for (const part of pack.parts) await this.#writer.write(part);
    this.#onPackWritten?.(records);
  }

  /** Writes pending records and the END pack, then flushes the writer. */
  async close(): Promise<void> {
    assert(!this.#closed, "close() twice");
    await this.#ensureHeader();
    await this.#flushPack();
    this.#closed = true;
    await this.#writer.write(buildEndPack());
    await this.#writer.flush();
  }
}
