/**
 * The 4096-byte pack header block of the sorted wdiff format (wdiff-and-archive.md §4.2, §4.4):
 * decode, validate, build, and the "can add" rule writers use to close packs.
 *
 * @module
 */
import { checksum } from "../checksum/checksum.ts";
import { assert, ChecksumMismatchError, CorruptDataError } from "../../errors.ts";
import { LIMITS } from "../../limits.ts";
import {
  decodeSortedRecord,
  encodeSortedRecord,
  kindOfFlags,
  SORTED_RECORD_SIZE,
  type SortedRecord,
  sortedRecordProblem,
} from "./record.ts";

/** Size of a pack header block in bytes. */
export const PACK_HEADER_SIZE = 4096;
/** Bytes before the first record slot. */
export const PACK_HEADER_FIXED_SIZE = 16;
/** Pack flag bit: last pack of a file. */
export const PACK_FLAG_END = 1;

/** A decoded pack header. */
export interface PackHeader {
  checksum: number;
  /** n_records as stored (may exceed 127 in a corrupt block). */
  nRecords: number;
  flags: number;
  totalSize: number;
  /** The records, at most 127 even when nRecords is larger. */
  records: SortedRecord[];
}

/** True when the END flag is set. */
export function isEndPack(header: PackHeader): boolean {
  return (header.flags & PACK_FLAG_END) !== 0;
}

/**
 * Decodes a pack block without validating it (wdiff-show prints invalid packs).
 *
 * @param block the 4096 bytes
 * @param fileOffset offset of the block in its file, for error messages
 * @throws {CorruptDataError} only when a record's io_address is past 2^53 − 1
 */
export function decodePackHeader(block: Uint8Array, fileOffset = -1): PackHeader {
  assert(block.length === PACK_HEADER_SIZE, "pack header block must be 4096 bytes");
  const view = new DataView(block.buffer, block.byteOffset, PACK_HEADER_FIXED_SIZE);
  const nRecords = view.getUint16(4, true);
  const records: SortedRecord[] = [];
  const shown = Math.min(nRecords, LIMITS.wdiffPackRecordsMax);
  for (let i = 0; i < shown; i++) {
    const offset = PACK_HEADER_FIXED_SIZE + i * SORTED_RECORD_SIZE;
    records.push(decodeSortedRecord(block, offset, fileOffset + offset));
  }
  return {
    checksum: view.getUint32(0, true),
    nRecords,
    flags: view.getUint8(6),
    totalSize: view.getUint32(8, true),
    records,
  };
}

/**
 * Validates a decoded pack: block checksum, n_records ≤ 127, every record valid, data_offset
 * equal to the running offset, total_size equal to Σ data_size, no non-END empty pack, and a
 * multi-record payload within the pack limit.
 *
 * @param header the decoded header
 * @param block the 4096 bytes it came from
 * @param fileOffset offset of the block, for error messages
 * @throws {ChecksumMismatchError} when the block checksum does not verify
 * @throws {CorruptDataError} on any other violation
 */
export function validatePackHeader(header: PackHeader, block: Uint8Array, fileOffset: number) {
  const what = "wdiff pack header";
  const sum = checksum(block, 0);
  if (sum !== 0) {
    throw new ChecksumMismatchError(
      what,
      fileOffset,
      (header.checksum + sum) >>> 0,
      header.checksum,
    );
  }
  if (header.nRecords > LIMITS.wdiffPackRecordsMax) {
    throw new CorruptDataError(what, fileOffset, `n_records ${header.nRecords} is over 127`);
  }
  if (isEndPack(header)) return;
  if (header.nRecords === 0) {
    throw new CorruptDataError(what, fileOffset, "n_records is 0 in a non-end pack");
  }
  let offset = 0;
  for (const [i, record] of header.records.entries()) {
    const at = fileOffset + PACK_HEADER_FIXED_SIZE + i * SORTED_RECORD_SIZE;
    const problem = sortedRecordProblem(record);
    if (problem !== null) throw new CorruptDataError(`wdiff record ${i}`, at, problem);
    if (record.dataOffset !== offset) {
      throw new CorruptDataError(
        `wdiff record ${i}`,
        at,
        `data_offset is ${record.dataOffset}, expected ${offset}`,
      );
    }
    if (kindOfFlags(record.flags) === "normal") offset += record.dataSize;
  }
  if (header.totalSize !== offset) {
    throw new CorruptDataError(
      what,
      fileOffset,
      `total_size is ${header.totalSize}, expected ${offset}`,
    );
  }
  if (header.nRecords > 1 && header.totalSize > LIMITS.wdiffPackDataSizeMax) {
    throw new CorruptDataError(
      what,
      fileOffset,
      `total_size ${header.totalSize} of ${header.nRecords} records is over ${LIMITS.wdiffPackDataSizeMax}`,
    );
  }
}

/**
 * Builds a sealed pack block from stored records (offsets as given; unused slots zero).
 *
 * @param records at most 127 records
 * @param options `isEnd` sets the END flag
 * @returns the 4096-byte block
 */
export function buildPackHeader(
  records: readonly SortedRecord[],
  options: { isEnd?: boolean } = {},
): Uint8Array {
  assert(records.length <= LIMITS.wdiffPackRecordsMax, "too many records for one pack");
  const block = new Uint8Array(PACK_HEADER_SIZE);
  const view = new DataView(block.buffer);
  let totalSize = 0;
  for (const [i, record] of records.entries()) {
    encodeSortedRecord(record, block, PACK_HEADER_FIXED_SIZE + i * SORTED_RECORD_SIZE);
    totalSize += kindOfFlags(record.flags) === "normal" ? record.dataSize : 0;
  }
  assert(totalSize <= 0xffffffff, "pack total_size out of u32");
  view.setUint16(4, records.length, true);
  view.setUint8(6, options.isEnd === true ? PACK_FLAG_END : 0);
  view.setUint32(8, totalSize, true);
  view.setUint32(0, checksum(block, 0), true);
  return block;
}

/** The END pack block: `00 00 FF FF 00 00 01 00` + 4088 zero bytes. */
export function buildEndPack(): Uint8Array {
  return buildPackHeader([], { isEnd: true });
}

/**
 * The writers' "can add" rule (§4.6): a record of stored size `size` fits unless the pack
 * already holds 127 records, or is non-empty and would pass 32 MiB.
 *
 * @param recordCount records already in the pack
 * @param totalSize payload bytes already in the pack
 * @param size the candidate's size (stored for variant A, uncompressed for variant B)
 */
export function packCanAdd(recordCount: number, totalSize: number, size: number): boolean {
  if (recordCount >= LIMITS.wdiffPackRecordsMax) return false;
  return recordCount === 0 || totalSize + size <= LIMITS.wdiffPackDataSizeMax;
}

/**
 * Checks that `record` starts at or after `previousEnd` (records are sorted, non-overlapping).
 *
 * @returns the record's end address
 * @throws {CorruptDataError} when it overlaps or precedes the previous record
 */
export function checkRecordOrder(
  record: { ioAddress: number; ioBlocks: number },
  previousEnd: number,
  what: string,
  fileOffset: number,
): number {
  if (record.ioAddress < previousEnd) {
    throw new CorruptDataError(
      what,
      fileOffset,
      `io_address ${record.ioAddress} is before the previous record's end ${previousEnd}`,
    );
  }
  return record.ioAddress + record.ioBlocks;
}
