/**
 * The 32-byte record of a sorted wdiff pack (wdiff-and-archive.md §4.3), in its stored form,
 * and the record flags shared with the indexed format.
 *
 * @module
 */
import { assert, CorruptDataError, LimitExceededError, toSafeNumber } from "../../errors.ts";
import { LIMITS } from "../../limits.ts";
import type { DiffKind } from "./diff_record.ts";

/** Size of one sorted record in bytes. */
export const SORTED_RECORD_SIZE = 32;

/** Record flag bits. EXIST is never set by writers and ignored by readers. */
export const RecordFlag = { exist: 1, allZero: 2, discard: 4 } as const;

/** Number of compression codes (valid codes are below this). */
export const COMPRESSION_TYPE_COUNT = 6;

/** A sorted record as stored. Addresses and sizes are in lb; offsets and sizes in bytes. */
export interface SortedRecord {
  ioAddress: number;
  ioBlocks: number;
  flags: number;
  compressionType: number;
  /** Byte offset of the stored data within the pack payload. */
  dataOffset: number;
  /** Stored (possibly compressed) byte length; 0 for all-zero and discard records. */
  dataSize: number;
  /** csum(stored bytes, 0); 0 for records without data. */
  checksum: number;
}

/**
 * Kind of a record from its flags (bits 1 and 2 only), or null when both are set.
 *
 * @param flags the stored flags byte
 */
export function kindOfFlags(flags: number): DiffKind | null {
  const allZero = (flags & RecordFlag.allZero) !== 0;
  const discard = (flags & RecordFlag.discard) !== 0;
  if (allZero && discard) return null;
  if (allZero) return "allZero";
  if (discard) return "discard";
  return "normal";
}

/** Flags a writer stores for `kind`. */
export function flagsOfKind(kind: DiffKind): number {
  if (kind === "allZero") return RecordFlag.allZero;
  if (kind === "discard") return RecordFlag.discard;
  return 0;
}

/**
 * Decodes one record. Never throws for field values except a u64 address past 2^53.
 *
 * @param bytes a buffer holding the record
 * @param offset where the record starts in `bytes`
 * @param fileOffset file offset of the record, for error messages
 * @throws {CorruptDataError} when io_address is not a safe integer
 */
export function decodeSortedRecord(
  bytes: Uint8Array,
  offset: number,
  fileOffset = -1,
): SortedRecord {
  assert(offset + SORTED_RECORD_SIZE <= bytes.length, "sorted record out of buffer");
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, SORTED_RECORD_SIZE);
  return {
    ioAddress: safeAddress(view.getBigUint64(0, true), "wdiff record", fileOffset),
    ioBlocks: view.getUint32(8, true),
    flags: view.getUint8(12),
    compressionType: view.getUint8(13),
    dataOffset: view.getUint32(16, true),
    dataSize: view.getUint32(20, true),
    checksum: view.getUint32(24, true),
  };
}

/** Reads a u64 address as a number, refusing values past 2^53 − 1 as corrupt input. */
export function safeAddress(value: bigint, what: string, fileOffset: number): number {
  try {
    return toSafeNumber(value, `${what} io_address`);
  } catch (error) {
    if (!(error instanceof LimitExceededError)) throw error;
    throw new CorruptDataError(what, fileOffset, `io_address ${value} is over 2^53 - 1`, {
      cause: error,
    });
  }
}

/**
 * Encodes one record into `target` at `offset` (reserved fields zero).
 *
 * @param record the record; every field must fit its stored width
 * @param target destination buffer
 * @param offset byte offset in `target`
 */
export function encodeSortedRecord(record: SortedRecord, target: Uint8Array, offset: number): void {
  assert(Number.isSafeInteger(record.ioAddress) && record.ioAddress >= 0, "bad io_address");
  assert(record.ioBlocks >= 0 && record.ioBlocks <= 0xffffffff, "io_blocks out of u32");
  assert(record.dataOffset >= 0 && record.dataOffset <= 0xffffffff, "data_offset out of u32");
  assert(record.dataSize >= 0 && record.dataSize <= 0xffffffff, "data_size out of u32");
  const view = new DataView(target.buffer, target.byteOffset + offset, SORTED_RECORD_SIZE);
  view.setBigUint64(0, BigInt(record.ioAddress), true);
  view.setUint32(8, record.ioBlocks, true);
  view.setUint8(12, record.flags);
  view.setUint8(13, record.compressionType);
  view.setUint16(14, 0, true);
  view.setUint32(16, record.dataOffset, true);
  view.setUint32(20, record.dataSize, true);
  view.setUint32(24, record.checksum >>> 0, true);
  view.setUint32(28, 0, true);
}

/**
 * Largest stored size accepted for a normal record of `ioBlocks` blocks: a pack's payload
 * limit, or the raw size when larger ("only if smaller" keeps stored ≤ raw).
 */
export function storedSizeMax(ioBlocks: number): number {
  return Math.max(LIMITS.wdiffStoredSizeMax, ioBlocks * LIMITS.lbSize);
}

/**
 * Why a sorted record is invalid, or null when valid: both ALLZERO and DISCARD, or for a
 * normal record a compression code ≥ 6, io_blocks 0, io_blocks or data_size over the limits.
 */
export function sortedRecordProblem(record: SortedRecord): string | null {
  const kind = kindOfFlags(record.flags);
  if (kind === null) return `flags 0x${record.flags.toString(16)} set both ALLZERO and DISCARD`;
  if (kind !== "normal") return null;
  if (record.compressionType >= COMPRESSION_TYPE_COUNT) {
    return `compression_type is ${record.compressionType}, expected < 6`;
  }
  if (record.ioBlocks === 0) return "io_blocks is 0 in a normal record";
  if (record.ioBlocks > LIMITS.wdiffNormalIoLbMax) {
    return `io_blocks ${record.ioBlocks} is over the limit ${LIMITS.wdiffNormalIoLbMax}`;
  }
  if (record.dataSize > storedSizeMax(record.ioBlocks)) {
    return `data_size ${record.dataSize} is over the limit ${storedSizeMax(record.ioBlocks)}`;
  }
  return null;
}
