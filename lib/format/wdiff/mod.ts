/**
 * wdiff file formats (wdiff-and-archive.md §3–§5): the 32-byte file header, the sorted format
 * (4096-byte pack blocks of 32-byte records, then stored payloads) and the indexed format
 * (data area, 48-byte index records, super block), with streaming readers and writers, a
 * dispatcher over both formats and the F9 statistics.
 *
 * Readers yield {@link DiffRecord}s (uncompressed, increasing, non-overlapping) and throw
 * `CorruptDataError` / `ChecksumMismatchError` / `LimitExceededError` on bad input; every
 * length read from a file is checked against `lib/limits.ts` before allocating.
 *
 * @example
 * ```ts
 * import { BufferedWriter, MemorySink } from "../../io/stream.ts";
 * import { MemoryRandomAccess } from "../../io/random_access.ts";
 * import { openWdiff, SortedWdiffWriter } from "./mod.ts";
 * const sink = new MemorySink();
 * const writer = new SortedWdiffWriter(new BufferedWriter(sink));
 * await writer.add({ ioAddress: 24, ioBlocks: 16, kind: "discard", data: null });
 * await writer.close();
 * const { reader, close } = await openWdiff(new MemoryRandomAccess(sink.bytes()));
 * for await (const record of reader.records()) if (record.ioAddress !== 24) throw new Error();
 * close();
 * ```
 *
 * @module
 */
export { type DiffKind, type DiffRecord, recordEnd } from "./diff_record.ts";
export {
  buildWdiffHeader,
  decodeWdiffHeader,
  parseWdiffHeader,
  uuidHex,
  WDIFF_HEADER_SIZE,
  WDIFF_UUID_SIZE,
  WDIFF_VERSION,
  type WdiffHeader,
  WdiffType,
  type WdiffTypeCode,
} from "./file_header.ts";
export {
  COMPRESSION_TYPE_COUNT,
  decodeSortedRecord,
  encodeSortedRecord,
  flagsOfKind,
  kindOfFlags,
  RecordFlag,
  SORTED_RECORD_SIZE,
  type SortedRecord,
  sortedRecordProblem,
  storedSizeMax,
} from "./record.ts";
export {
  buildEndPack,
  buildPackHeader,
  checkRecordOrder,
  decodePackHeader,
  isEndPack,
  PACK_FLAG_END,
  PACK_HEADER_FIXED_SIZE,
  PACK_HEADER_SIZE,
  packCanAdd,
  type PackHeader,
  validatePackHeader,
} from "./pack_header.ts";
export {
  type CompressionSetting,
  DEFAULT_COMPRESSION,
  loadData,
  storeData,
  type StoredData,
  type StoredDataInfo,
} from "./stored_data.ts";
export {
  decodePackRecords,
  type PackBlock,
  type RawPack,
  SortedWdiffReader,
  storedBytesOf,
} from "./sorted_reader.ts";
export {
  buildCompressedPack,
  buildPack,
  type BuiltPack,
  SortedWdiffWriter,
  type SortedWdiffWriterOptions,
  storeDiffRecord,
  type StoredRecord,
  uncompressedSizeOf,
} from "./sorted_writer.ts";
export {
  type AlignedPiece,
  alignment,
  buildIndexSuper,
  decodeIndexRecord,
  decodeIndexSuper,
  encodeIndexRecord,
  floorPow2,
  INDEX_RECORD_SIZE,
  INDEX_SUPER_SIZE,
  type IndexRecord,
  indexRecordProblem,
  type IndexSuper,
  parseIndexSuper,
  splitAligned,
} from "./indexed_format.ts";
export {
  IndexedWdiffReader,
  type IndexedWdiffReaderOptions,
  type RawIndexRecord,
} from "./indexed_reader.ts";
export { IndexedWdiffWriter, type IndexedWdiffWriterOptions } from "./indexed_writer.ts";
export { AddressMap, type AddressRange } from "./address_map.ts";
export { type OpenedWdiff, openWdiff, readWdiffStream, type WdiffReader } from "./open.ts";
export {
  addStatistics,
  countRecord,
  type DiffStatistics,
  type DiffStatisticsKey,
  emptyDiffStatistics,
  formatStatisticsBlock,
  formatStatisticsLine,
  type StatisticsFormat,
} from "./stats.ts";
