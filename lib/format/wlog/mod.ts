/**
 * WalB log formats (device-and-wlog.md §2–4): the ldev super sector and ring math,
 * logpack headers and records, a driver-like pack builder, the wlog file header, and a
 * streaming wlog reader and writer. Pure: bytes and {@link BufferedReader} /
 * {@link BufferedWriter} in, values out; no file access.
 *
 * Reading wlogs (one or several concatenated, as wlog-to-wdiff does):
 *
 * ```ts
 * import { BufferedReader, MemorySource } from "../../io/stream.ts";
 * import { WlogReader } from "./mod.ts";
 * const wlog = new WlogReader(new BufferedReader(new MemorySource(new Uint8Array(0))));
 * for (let header = await wlog.readHeader(); header !== null; header = await wlog.readHeader()) {
 *   for await (const pack of wlog.packs()) {
 *     for (const io of pack.ios) {
 *       // io.record: { offset (lb), ioSize (lb), flags, lsid, ... }; io.payload: io_size*512 bytes
 *     }
 *   }
 *   // wlog.stop.reason: "end" (end block), "eof" or "invalid"; wlog.endLsid: lsid after the last pack
 * }
 * ```
 *
 * Payload checksums are verified while reading (ChecksumMismatchError), unless
 * `new WlogReader(reader, { verifyPayload: false })`. Errors are CorruptDataError /
 * ChecksumMismatchError naming the stream offset and the field.
 *
 * @module
 */
import type { BufferedReader, BufferedWriter } from "../../io/stream.ts";

export * from "./constants.ts";
export {
  buildEndBlock,
  checkLogpackHeader,
  decodeLogpackHeader,
  encodeLogpackHeader,
  inspectLogpackHeader,
  isDiscardRecord,
  isEndHeader,
  isExistRecord,
  isNormalRecord,
  isPaddingRecord,
  LOG_RECORD_SIZE,
  type LogpackCheckOptions,
  type LogpackHeader,
  logpackHeaderProblem,
  type LogpackInspection,
  logpackRecordsProblem,
  logpackSizeProblem,
  type LogRecord,
  maxRecordsInPack,
  nextLsidOf,
  payloadChecksum,
  payloadSize,
  recordPbCount,
  shrinkLogpackHeader,
} from "./logpack.ts";
export {
  type Logpack,
  LogpackBuilder,
  type LogpackBuilderOptions,
  type LogpackIo,
} from "./logpack_builder.ts";
export {
  buildSuperSector,
  decodeSuperSector,
  type FormatLdevInput,
  formatLdevSuper,
  lsidToByteOffset,
  lsidToPbOffset,
  parseSuperSector,
  pbUntilRingEnd,
  ringBufferOffsetPb,
  SUPER_SECTOR_OFFSET,
  type SuperSector,
  type SuperSectorInit,
  superSectorPbs,
  superSectorProblem,
} from "./super_sector.ts";
export { formatLogpack, formatLogpackHeader, formatLogRecord, WlogStatistics } from "./text.ts";
export {
  buildWlogHeader,
  decodeWlogHeader,
  formatWlogHeader,
  parseWlogHeader,
  type WlogHeader,
  type WlogHeaderInit,
  wlogHeaderProblem,
} from "./wlog_header.ts";
export {
  readWlogHeader,
  type WlogPack,
  WlogReader,
  type WlogReaderOptions,
  type WlogStop,
} from "./wlog_reader.ts";
export { WlogWriter } from "./wlog_writer.ts";
export type { BufferedReader, BufferedWriter };
