/**
 * Logpack header block and log records (device-and-wlog.md §3.2–3.3, §3.6–3.8): decode,
 * encode/seal, the validation rules in their order, shrink, and the end block.
 *
 * @module
 */
import { ChecksumMismatchError, CorruptDataError, toSafeNumber } from "../../errors.ts";
import { checksum } from "../checksum/checksum.ts";
import {
  INVALID_LSID,
  isValidPbs,
  lbToPbCount,
  LOG_RECORD_DISCARD,
  LOG_RECORD_EXIST,
  LOG_RECORD_PADDING,
  LOGICAL_BLOCK_SIZE,
  MAX_LSID,
  MAX_NORMAL_IO_SECTORS,
  MAX_TOTAL_IO_SIZE_IN_LOGPACK_HEADER,
  SECTOR_TYPE_LOGPACK,
} from "./constants.ts";

/** Size of the fixed part of a logpack header. */
export const LOGPACK_HEADER_FIXED_SIZE = 24;
/** Size of one log record. */
export const LOG_RECORD_SIZE = 32;

/** One log record (`walb_log_record`, 32 bytes). */
export interface LogRecord {
  /** Payload checksum (normal records); 0 for discard and padding. */
  checksum: number;
  /** Bits: 1 EXIST, 2 PADDING, 4 DISCARD. */
  flags: number;
  /** IO address on the WalB device [lb] (a safe integer). */
  offset: number;
  /** IO size [lb]. */
  ioSize: number;
  /** lsid - logpack_lsid (u16). */
  lsidLocal: number;
  /** lsid where the payload starts. */
  lsid: bigint;
}

/** A logpack header (`walb_logpack_header`) with its records. */
export interface LogpackHeader {
  checksum: number;
  sectorType: number;
  /** Data pb following the header (padding included, discards excluded). */
  totalIoSize: number;
  logpackLsid: bigint;
  nRecords: number;
  nPadding: number;
  records: LogRecord[];
}

/** Records that fit in one header block of `pbs` bytes: floor((pbs - 24) / 32). */
export function maxRecordsInPack(pbs: number): number {
  return Math.floor((pbs - LOGPACK_HEADER_FIXED_SIZE) / LOG_RECORD_SIZE);
}

/** True if the EXIST flag is set. */
export function isExistRecord(record: LogRecord): boolean {
  return (record.flags & LOG_RECORD_EXIST) !== 0;
}
/** True if the PADDING flag is set. */
export function isPaddingRecord(record: LogRecord): boolean {
  return (record.flags & LOG_RECORD_PADDING) !== 0;
}
/** True if the DISCARD flag is set. */
export function isDiscardRecord(record: LogRecord): boolean {
  return (record.flags & LOG_RECORD_DISCARD) !== 0;
}
/** True for a normal write: neither padding nor discard. */
export function isNormalRecord(record: LogRecord): boolean {
  return !isPaddingRecord(record) && !isDiscardRecord(record);
}

/** Data pb a record occupies: ceil(io_size*512/pbs), 0 for a discard. */
export function recordPbCount(record: LogRecord, pbs: number): number {
  return isDiscardRecord(record) ? 0 : lbToPbCount(record.ioSize, pbs);
}

/** lsid of the pack after `header`: lsid + 1 + total_io_size, or lsid for an empty header. */
export function nextLsidOf(header: LogpackHeader): bigint {
  if (header.nRecords === 0) return header.logpackLsid;
  return header.logpackLsid + 1n + BigInt(header.totalIoSize);
}

/** True for the end block of wlog files: no records and lsid 2^64 - 1. */
export function isEndHeader(header: LogpackHeader): boolean {
  return header.nRecords === 0 && header.logpackLsid === INVALID_LSID;
}

/** The salted checksum of a normal record's payload (io_size * 512 bytes). */
export function payloadChecksum(payload: Uint8Array, salt: number): number {
  return checksum(payload, salt);
}

function checkBlockSize(block: Uint8Array, pbs: number, offset: number): void {
  if (!isValidPbs(pbs)) {
    throw new CorruptDataError("logpack header", offset, `physical block size ${pbs} is invalid`);
  }
  if (block.length !== pbs) {
    throw new CorruptDataError(
      "logpack header",
      offset,
      `block is ${block.length} bytes, expected ${pbs}`,
    );
  }
}

/**
 * Decodes a logpack header block without validating it (see {@link logpackHeaderProblem}).
 *
 * @param block the whole header pb (`pbs` bytes)
 * @param options pbs and the file offset of the block (for error messages)
 * @returns the header with its `n_records` records
 * @throws {CorruptDataError} when the block size is wrong, `n_records` does not fit the
 *   block, or a record offset is past 2^53 - 1
 * @example
 * ```ts
 * import { decodeLogpackHeader, buildEndBlock } from "./logpack.ts";
 * const header = decodeLogpackHeader(buildEndBlock(512, 0), { pbs: 512 });
 * if (header.nRecords !== 0) throw new Error("wrong");
 * ```
 */
export function decodeLogpackHeader(
  block: Uint8Array,
  options: { pbs: number; offset?: number },
): LogpackHeader {
  const offset = options.offset ?? -1;
  checkBlockSize(block, options.pbs, offset);
  const view = new DataView(block.buffer, block.byteOffset, block.length);
  const nRecords = view.getUint16(16, true);
  const maxRecords = maxRecordsInPack(options.pbs);
  if (nRecords > maxRecords) {
    throw new CorruptDataError(
      "logpack header",
      offset,
      `n_records is ${nRecords}, more than ${maxRecords} fit in ${options.pbs} bytes`,
    );
  }
  const records: LogRecord[] = [];
  for (let i = 0; i < nRecords; i++) {
    const base = LOGPACK_HEADER_FIXED_SIZE + i * LOG_RECORD_SIZE;
    const recordOffset = view.getBigUint64(base + 8, true);
    if (recordOffset > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new CorruptDataError(
        "log record",
        offset < 0 ? offset : offset + base,
        `record ${i} offset ${recordOffset} is past 2^53 - 1`,
      );
    }
    records.push({
      checksum: view.getUint32(base, true),
      flags: view.getUint32(base + 4, true),
      offset: Number(recordOffset),
      ioSize: view.getUint32(base + 16, true),
      lsidLocal: view.getUint16(base + 20, true),
      lsid: view.getBigUint64(base + 24, true),
    });
  }
  return {
    checksum: view.getUint32(0, true),
    sectorType: view.getUint16(4, true),
    totalIoSize: view.getUint16(6, true),
    logpackLsid: view.getBigUint64(8, true),
    nRecords,
    nPadding: view.getUint16(18, true),
    records,
  };
}

/**
 * Header-only validity (§3.6 rules 1–3). The checksum is not checked when n_records is 0.
 *
 * @returns undefined when valid, else what is wrong (the first failing rule)
 */
export function logpackHeaderProblem(
  block: Uint8Array,
  header: LogpackHeader,
  salt: number,
): string | undefined {
  if (header.sectorType !== SECTOR_TYPE_LOGPACK) {
    return `sector_type is 0x${header.sectorType.toString(16)}, expected 0x3`;
  }
  if (header.nRecords === 0) {
    if (header.totalIoSize !== 0) return `total_io_size is ${header.totalIoSize} with no record`;
    if (header.nPadding !== 0) return `n_padding is ${header.nPadding} with no record`;
    return undefined;
  }
  if (header.nPadding > 1) return `n_padding is ${header.nPadding}, more than 1`;
  if (header.nPadding > header.nRecords) {
    return `n_padding ${header.nPadding} is over n_records ${header.nRecords}`;
  }
  if (header.logpackLsid + 1n + BigInt(header.totalIoSize) > INVALID_LSID) {
    return `logpack_lsid ${header.logpackLsid} + 1 + total_io_size overflows`;
  }
  const sum = checksum(block, salt);
  if (sum !== 0) return `checksum does not verify (sum 0x${sum.toString(16)})`;
  return undefined;
}

/**
 * Record validity (§3.6 rules 4–8, walb-tools `LogPackHeader::isValid`).
 *
 * @returns undefined when every record is valid, else what is wrong with the first bad one
 */
export function logpackRecordsProblem(header: LogpackHeader): string | undefined {
  for (let i = 0; i < header.nRecords; i++) {
    const record = header.records[i]!;
    if (!isExistRecord(record)) return `record ${i} has no EXIST flag`;
    if (!isPaddingRecord(record) && record.ioSize === 0) return `record ${i} io_size is 0`;
    if (!isDiscardRecord(record) && record.ioSize > MAX_NORMAL_IO_SECTORS) {
      return `record ${i} io_size ${record.ioSize} is over ${MAX_NORMAL_IO_SECTORS}`;
    }
    if (record.lsidLocal === 0) return `record ${i} lsid_local is 0`;
    if (record.lsid > MAX_LSID) return `record ${i} lsid ${record.lsid} is over MAX_LSID`;
    if (record.lsid - BigInt(record.lsidLocal) !== header.logpackLsid) {
      return `record ${i} lsid ${record.lsid} - lsid_local ${record.lsidLocal} is not logpack_lsid ${header.logpackLsid}`;
    }
  }
  return undefined;
}

/**
 * Consistency a reader of wlog files relies on: total_io_size equals the pb of the records'
 * data, n_padding counts the padding records, and at most one padding record.
 *
 * @returns undefined when consistent, else what is wrong
 */
export function logpackSizeProblem(header: LogpackHeader, pbs: number): string | undefined {
  let total = 0;
  let paddings = 0;
  for (const record of header.records) {
    total += recordPbCount(record, pbs);
    if (isPaddingRecord(record)) paddings++;
  }
  if (total !== header.totalIoSize) {
    return `total_io_size is ${header.totalIoSize}, records hold ${total} pb`;
  }
  if (paddings !== header.nPadding) {
    return `n_padding is ${header.nPadding}, records hold ${paddings} padding records`;
  }
  return undefined;
}

/** Options of {@link inspectLogpackHeader} and {@link checkLogpackHeader}. */
export interface LogpackCheckOptions {
  pbs: number;
  salt: number;
  /** File offset of the block, for error messages (-1 when unknown). */
  offset?: number;
  /** Positional check: the lsid the pack must have (§3.6). */
  expectedLsid?: bigint;
}

/** Result of {@link inspectLogpackHeader}: a valid header, or why the block is not one. */
export type LogpackInspection =
  | { kind: "valid"; header: LogpackHeader }
  | { kind: "end"; header: LogpackHeader }
  | { kind: "invalid"; problem: string; checksumFailed: boolean };

/**
 * Classifies a block read where a logpack header is expected, without throwing for bad
 * content: valid header (rules 1–8 plus the positional check), end block, or invalid.
 *
 * @throws {CorruptDataError} only when the block size or pbs is wrong
 */
export function inspectLogpackHeader(
  block: Uint8Array,
  options: LogpackCheckOptions,
): LogpackInspection {
  let header: LogpackHeader;
  try {
    header = decodeLogpackHeader(block, options);
  } catch (error) {
    if (error instanceof CorruptDataError && block.length === options.pbs) {
      return { kind: "invalid", problem: error.message, checksumFailed: false };
    }
    throw error;
  }
  const headerProblem = logpackHeaderProblem(block, header, options.salt);
  if (headerProblem !== undefined) {
    return {
      kind: "invalid",
      problem: headerProblem,
      checksumFailed: headerProblem.startsWith("checksum"),
    };
  }
  if (isEndHeader(header)) return { kind: "end", header };
  const recordsProblem = logpackRecordsProblem(header);
  if (recordsProblem !== undefined) {
    return { kind: "invalid", problem: recordsProblem, checksumFailed: false };
  }
  if (options.expectedLsid !== undefined && header.logpackLsid !== options.expectedLsid) {
    return {
      kind: "invalid",
      problem: `logpack_lsid is ${header.logpackLsid}, expected ${options.expectedLsid}`,
      checksumFailed: false,
    };
  }
  return { kind: "valid", header };
}

/**
 * Decodes and validates a logpack header (rules 1–8 and, if given, the positional check).
 *
 * @throws {ChecksumMismatchError} when the header checksum does not verify
 * @throws {CorruptDataError} for any other rule
 */
export function checkLogpackHeader(
  block: Uint8Array,
  options: LogpackCheckOptions,
): LogpackHeader {
  const offset = options.offset ?? -1;
  const result = inspectLogpackHeader(block, options);
  if (result.kind !== "invalid") return result.header;
  if (result.checksumFailed) {
    throw new ChecksumMismatchError("logpack header", offset, checksum(block, options.salt), 0);
  }
  throw new CorruptDataError("logpack header", offset, result.problem);
}

/**
 * Encodes `header` into a zeroed `pbs`-byte block and seals it: the checksum field is
 * computed with `salt` (self-verifying, §1.1). `header.checksum` is ignored.
 *
 * @returns the block; decode it to read the stored checksum
 * @example
 * ```ts
 * import { encodeLogpackHeader, decodeLogpackHeader } from "./logpack.ts";
 * const block = encodeLogpackHeader({
 *   checksum: 0, sectorType: 3, totalIoSize: 0, logpackLsid: 2n ** 64n - 1n,
 *   nRecords: 0, nPadding: 0, records: [],
 * }, { pbs: 512, salt: 0x89abcdef });
 * if (decodeLogpackHeader(block, { pbs: 512 }).checksum !== 0x76543210) throw new Error();
 * ```
 */
export function encodeLogpackHeader(
  header: LogpackHeader,
  options: { pbs: number; salt: number },
): Uint8Array {
  const { pbs } = options;
  if (!isValidPbs(pbs)) throw new RangeError(`physical block size ${pbs} is invalid`);
  if (header.records.length !== header.nRecords) {
    throw new RangeError(`n_records ${header.nRecords} but ${header.records.length} records`);
  }
  if (header.nRecords > maxRecordsInPack(pbs)) {
    throw new RangeError(`n_records ${header.nRecords} does not fit in ${pbs} bytes`);
  }
  const block = new Uint8Array(pbs);
  const view = new DataView(block.buffer);
  view.setUint16(4, header.sectorType, true);
  view.setUint16(6, header.totalIoSize, true);
  view.setBigUint64(8, header.logpackLsid, true);
  view.setUint16(16, header.nRecords, true);
  view.setUint16(18, header.nPadding, true);
  header.records.forEach((record, i) => {
    const base = LOGPACK_HEADER_FIXED_SIZE + i * LOG_RECORD_SIZE;
    view.setUint32(base, record.checksum, true);
    view.setUint32(base + 4, record.flags, true);
    view.setBigUint64(base + 8, BigInt(record.offset), true);
    view.setUint32(base + 16, record.ioSize, true);
    view.setUint16(base + 20, record.lsidLocal, true);
    view.setBigUint64(base + 24, record.lsid, true);
  });
  view.setUint32(0, checksum(block, options.salt), true);
  return block;
}

/** The end block of wlog files (§3.6): no records, lsid 2^64 - 1, salted checksum. */
export function buildEndBlock(pbs: number, salt: number): Uint8Array {
  return encodeLogpackHeader({
    checksum: 0,
    sectorType: SECTOR_TYPE_LOGPACK,
    totalIoSize: 0,
    logpackLsid: INVALID_LSID,
    nRecords: 0,
    nPadding: 0,
    records: [],
  }, { pbs, salt });
}

/**
 * Truncates a header to its first `count` records (§3.8: driver redo and
 * walb-tools `LogPackHeader::shrink`): total_io_size and n_padding are recomputed.
 * Encode the result to get the new checksum.
 */
export function shrinkLogpackHeader(
  header: LogpackHeader,
  count: number,
  pbs: number,
): LogpackHeader {
  if (count < 0 || count > header.nRecords) {
    throw new RangeError(`cannot shrink ${header.nRecords} records to ${count}`);
  }
  const records = header.records.slice(0, count).map((r) => ({ ...r }));
  let totalIoSize = 0;
  let nPadding = 0;
  for (const record of records) {
    totalIoSize += recordPbCount(record, pbs);
    if (isPaddingRecord(record)) nPadding++;
  }
  return { ...header, totalIoSize, nPadding, nRecords: count, records };
}

/** Size in bytes of a record's payload: io_size * 512 (0 for a discard). */
export function payloadSize(record: LogRecord): number {
  return isDiscardRecord(record) ? 0 : record.ioSize * LOGICAL_BLOCK_SIZE;
}

/** total_io_size bound for builders: the u16 field. */
export const TOTAL_IO_SIZE_MAX = MAX_TOTAL_IO_SIZE_IN_LOGPACK_HEADER;

/** Converts a record offset given as bigint to the number held in {@link LogRecord}. */
export function recordOffsetFromBig(offset: bigint): number {
  return toSafeNumber(offset, "log record offset");
}
