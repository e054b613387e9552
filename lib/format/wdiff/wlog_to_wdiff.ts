/**
 * wlog → wdiff conversion (wdiff-and-archive.md §6.3): log records become diff records
 * (padding skipped, discards kept, all-zero data detected), from one or more concatenated
 * wlogs. Sorted output goes through the in-memory diff and writer variant A; indexed output
 * streams through the indexed writer.
 *
 * @module
 */
import { assert, CorruptDataError } from "../../errors.ts";
import { LIMITS } from "../../limits.ts";
import type { BufferedReader, BufferedWriter } from "../../io/stream.ts";
import {
  isDiscardRecord,
  isPaddingRecord,
  type LogpackIo,
  type WlogHeader,
  WlogReader,
} from "../wlog/mod.ts";
import type { DiffRecord } from "./diff_record.ts";
import { uuidHex, WDIFF_UUID_SIZE } from "./file_header.ts";
import { IndexedWdiffWriter } from "./indexed_writer.ts";
import { BufferHolders, releaseWholeBuffer } from "./buffer_release.ts";
import { MemDiff } from "./mem_diff.ts";
import { SortedWdiffWriter } from "./sorted_writer.ts";
import { type PositionalReader, SourceDataRecord } from "./source_record.ts";
import { DataArena } from "./data_arena.ts";
import { type CompressionSetting, DEFAULT_COMPRESSION, rememberChecksum } from "./stored_data.ts";

/**
 * A following wlog does not continue the stream: its begin lsid is not the previous end
 * (`lsid mismatch.`) or its uuid differs from the first (`uuid differ:{new}:{first}`).
 * `originalText` is the original tool's message.
 */
export class WlogSequenceError extends CorruptDataError {
  constructor(offset: number, readonly originalText: string) {
    super("wlog header", offset, originalText);
    this.name = "WlogSequenceError";
  }
}

/** True when every byte is zero. */
export function isAllZero(bytes: Uint8Array): boolean {
  const words = bytes.byteOffset % 4 === 0 ? bytes.length >>> 2 : 0;
  if (words > 0) {
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset, words);
    for (let i = 0; i < view.length; i++) if (view[i] !== 0) return false;
  }
  for (let i = words * 4; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * The diff record of one log IO: null for padding, a discard, all-zero when the data is all
 * zero, else normal with the IO's data (shared, not copied).
 *
 * @param io a log record with its payload (from `WlogReader`)
 * @returns the diff record, or null for padding
 */
export function diffRecordOfLogIo(io: LogpackIo): DiffRecord | null {
  const { record } = io;
  if (isPaddingRecord(record)) return null;
  if (isDiscardRecord(record)) {
    return { ioAddress: record.offset, ioBlocks: record.ioSize, kind: "discard", data: null };
  }
  if (record.ioSize === 0) return null;
  const data = io.payload;
  if (isAllZero(data)) {
    return { ioAddress: record.offset, ioBlocks: record.ioSize, kind: "allZero", data: null };
  }
  return { ioAddress: record.offset, ioBlocks: record.ioSize, kind: "normal", data };
}

/** Options of {@link WlogDiffSource}. */
export interface WlogDiffSourceOptions {
  /** Called after each wlog with its header and end lsid (lsid after its last pack). */
  onWlogEnd?: (header: WlogHeader, endLsid: bigint) => void;
  /**
   * Normal records' data are views into a buffer reused for the next pack (WlogReader's
   * `borrowData`): use each record before asking for the next pack's. Default false.
   */
  borrowData?: boolean;
  /**
   * Normal records as {@link SourceDataRecord}s: the position of their data in the stream and
   * its checksum instead of the data (which is then read into a reused buffer). Default false.
   */
  sourceRecords?: boolean;
}

/**
 * Diff records of one or more concatenated wlogs, in log order. The first header is read by
 * {@link WlogDiffSource.open}, so `uuid` is known before any record.
 *
 * @example
 * ```ts
 * import { BufferedReader, MemorySource } from "../../io/stream.ts";
 * import { WlogDiffSource } from "./wlog_to_wdiff.ts";
 * const source = await WlogDiffSource.open(new BufferedReader(new MemorySource(new Uint8Array())));
 * if (source.uuid !== null) throw new Error("empty input has no uuid");
 * for await (const _ of source.records()) throw new Error("no record expected");
 * ```
 */
export class WlogDiffSource {
  #wlog: WlogReader;
  #reader: BufferedReader;
  #borrowData: boolean;
  #first: WlogHeader | null;
  #options: WlogDiffSourceOptions;

  private constructor(
    reader: BufferedReader,
    wlog: WlogReader,
    first: WlogHeader | null,
    options: WlogDiffSourceOptions,
  ) {
    this.#reader = reader;
    this.#wlog = wlog;
    this.#borrowData = wlog.borrowsData;
    this.#first = first;
    this.#options = options;
  }

  /**
   * Reads the first wlog header.
   *
   * @throws {CorruptDataError} when the stream starts with an invalid or short header
   */
  static async open(
    reader: BufferedReader,
    options: WlogDiffSourceOptions = {},
  ): Promise<WlogDiffSource> {
    const borrowData = (options.borrowData ?? false) || (options.sourceRecords ?? false);
    const wlog = new WlogReader(reader, { borrowData });
    const first = await wlog.readHeader();
    return new WlogDiffSource(reader, wlog, first, options);
  }

  /** The first wlog's device uuid (the output's), or null for an empty input. */
  get uuid(): Uint8Array | null {
    return this.#first?.uuid ?? null;
  }

  /**
   * Every diff record, wlog after wlog.
   *
   * @throws {WlogSequenceError} when a following wlog's begin lsid or uuid does not match
   * @throws {CorruptDataError} / {ChecksumMismatchError} from the wlog reader
   */
  async *records(): AsyncGenerator<DiffRecord> {
    const first = this.#first;
    if (first === null) return;
    const sourceRecords = this.#options.sourceRecords ?? false;
    let header: WlogHeader | null = first;
    while (header !== null) {
      const salt = header.salt;
      for await (const pack of this.#wlog.packs()) {
        for (const io of pack.ios) {
          const record = diffRecordOfLogIo(io);
          // The reader's copy of padding and all-zero data is garbage now: free it at once
          // (borrowed data is a view of the reader's buffers: never).
          if (!this.#borrowData && (record === null || record.kind === "allZero")) {
            releaseWholeBuffer(io.data);
          }
          if (record === null) continue;
          if (record.data === null) {
            yield record;
            continue;
          }
          // The reader verified csum(payload, salt) = record checksum (WlogReader's default),
          // and csum(x, 0) = csum(x, salt) + salt.
          const checksumSalt0 = (io.record.checksum + salt) >>> 0;
          if (sourceRecords) {
            assert(io.streamOffset !== undefined, "wlog reader gave no stream offset");
            const { ioAddress, ioBlocks } = record;
            yield new SourceDataRecord(ioAddress, ioBlocks, io.streamOffset, checksumSalt0);
          } else {
            rememberChecksum(record.data, checksumSalt0);
            yield record;
          }
        }
      }
      const endLsid = this.#wlog.endLsid;
      this.#options.onWlogEnd?.(header, endLsid);
      const offset = this.#reader.position;
      header = await this.#wlog.readHeader();
      if (header === null) break;
      if (uuidHex(header.uuid) !== uuidHex(first.uuid)) {
        throw new WlogSequenceError(
          offset,
          `uuid differ:${uuidHex(header.uuid)}:${uuidHex(first.uuid)}`,
        );
      }
      if (header.beginLsid !== endLsid) throw new WlogSequenceError(offset, "lsid mismatch.");
    }
  }
}

/** Options of the conversions. */
export interface WlogConversionOptions extends WlogDiffSourceOptions {
  /** Largest output record [lb] (default 2048; 0 = unlimited). */
  maxBlocks?: number;
  /** Codec and level (default snappy:0). */
  compression?: CompressionSetting;
  /**
   * The same input at its stream positions (a regular file read from its start), for the
   * sorted conversion: it then keeps where each IO's data lies instead of the data, and reads
   * the data again when writing it. The input must not change meanwhile.
   */
  rereadFrom?: PositionalReader;
}

/**
 * Converts wlogs to a sorted wdiff: every record goes through an in-memory diff (the whole
 * diff is held in memory: with `rereadFrom`, only where each record's data lies), then the
 * sorted writer variant A. An empty input gives a valid empty wdiff with a zero uuid.
 *
 * @param reader the wlog stream
 * @param writer where the wdiff goes (flushed at the end)
 * @param options maxBlocks, compression, progress callback, rereadFrom
 * @returns the number of records written
 * @throws {WlogSequenceError} / {CorruptDataError} on bad input
 */
export async function convertWlogToSortedWdiff(
  reader: BufferedReader,
  writer: BufferedWriter,
  options: WlogConversionOptions = {},
): Promise<number> {
  const rereadFrom = options.rereadFrom;
  const source = await WlogDiffSource.open(reader, {
    ...options,
    sourceRecords: rereadFrom !== undefined,
  });
  // Without rereadFrom, each IO's data is a fresh buffer of the wlog reader (a copy) that only
  // the diff holds.
  const diff = new MemDiff({
    maxBlocks: options.maxBlocks ?? LIMITS.diffIoLbDefault,
    releaseDropped: rereadFrom === undefined,
  });
  for await (const record of source.records()) diff.insert(record);
  const uuid = source.uuid ?? new Uint8Array(WDIFF_UUID_SIZE);
  const compression = options.compression ?? DEFAULT_COMPRESSION;
  const buffers = rereadFrom === undefined ? heldBuffers(diff) : rereadBuffers(rereadFrom);
  return await writeDiff(diff, writer, uuid, compression, buffers);
}

/** Where the records written have their data, and when it may be given back. */
interface OutputBuffers {
  /** Before a record goes to the writer. */
  load(record: DiffRecord): void;
  /** Once the record's pack is written. */
  release(data: Uint8Array): void;
}

/** The diff's own buffers: each is freed once the last record using it is written. */
function heldBuffers(diff: MemDiff): OutputBuffers {
  const holders = new BufferHolders();
  for (const record of diff.records()) if (record.data !== null) holders.hold(record.data);
  return { load: () => {}, release: (data) => holders.release(data) };
}

/**
 * {@link SourceDataRecord}s' data read into arena views just before the record goes to the
 * writer; a view is given back once its pack is written.
 */
function rereadBuffers(input: PositionalReader): OutputBuffers {
  const arena = new DataArena();
  return {
    load(record) {
      if (record instanceof SourceDataRecord) {
        record.load(arena.allocate(record.ioBlocks * LIMITS.lbSize), input);
      }
    },
    release: (data) => arena.release(data),
  };
}

/** Writes the diff's records in order as a sorted wdiff; returns how many. */
async function writeDiff(
  diff: MemDiff,
  writer: BufferedWriter,
  uuid: Uint8Array,
  compression: CompressionSetting,
  buffers: OutputBuffers,
): Promise<number> {
  const output = new SortedWdiffWriter(writer, {
    uuid,
    compression,
    variant: "A",
    onPackWritten: (records) => {
      for (const record of records) if (record.data !== null) buffers.release(record.data);
    },
  });
  let count = 0;
  for (const record of diff.takeBefore()) {
    buffers.load(record);
    await output.add(record);
    count++;
  }
  await output.close();
  return count;
}

/**
 * Converts wlogs to an indexed wdiff, streaming: each IO's data is compressed and written as
 * it is read; only the index is held in memory. An empty input gives a valid empty indexed
 * wdiff with a zero uuid (header and super block).
 *
 * @param reader the wlog stream
 * @param writer where the wdiff goes (flushed at the end)
 * @param options maxBlocks (aligned pieces, floored to a power of two), compression, progress
 * @returns the number of IOs added (the super block's n_data)
 * @throws {WlogSequenceError} / {CorruptDataError} on bad input
 */
export async function convertWlogToIndexedWdiff(
  reader: BufferedReader,
  writer: BufferedWriter,
  options: WlogConversionOptions = {},
): Promise<number> {
  // Each IO is stored and written before the next is read: its data may be borrowed.
  const source = await WlogDiffSource.open(reader, { ...options, borrowData: true });
  const output = new IndexedWdiffWriter(writer, {
    uuid: source.uuid ?? new Uint8Array(WDIFF_UUID_SIZE),
    compression: options.compression ?? DEFAULT_COMPRESSION,
    maxIoBlocks: options.maxBlocks ?? LIMITS.diffIoLbDefault,
  });
  for await (const record of source.records()) await output.add(record);
  await output.close();
  return output.dataCount;
}
