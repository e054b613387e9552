/**
 * Indexed wdiff structures (wdiff-and-archive.md §5.2–5.4): the 48-byte index record, the
 * 24-byte index super block, and aligned splitting.
 *
 * @module
 */
import { checksum } from "../checksum/checksum.ts";
import { assert, ChecksumMismatchError, CorruptDataError } from "../../errors.ts";
import { LIMITS } from "../../limits.ts";
import { COMPRESSION_TYPE_COUNT, kindOfFlags, safeAddress, storedSizeMax } from "./record.ts";
import { WDIFF_HEADER_SIZE } from "./file_header.ts";

/** Size of one index record in bytes. */
export const INDEX_RECORD_SIZE = 48;
/** Size of the index super block in bytes. */
export const INDEX_SUPER_SIZE = 24;

/** An index record as stored (flags and reserved2 kept raw). */
export interface IndexRecord {
  ioAddress: number;
  ioBlocks: number;
  flags: number;
  compressionType: number;
  /** Absolute file offset of the stored image. */
  dataOffset: number;
  /** Stored byte length of the image. */
  dataSize: number;
  /** Offset of this piece in the decompressed image [lb]. */
  ioOffset: number;
  /** Decompressed image length [lb]; 0 for all-zero/discard. */
  origBlocks: number;
  /** Kept raw: wdiff-full -indexed of the original writes garbage here. */
  reserved2: number;
  ioChecksum: number;
  recChecksum: number;
}

/** The index super block. */
export interface IndexSuper {
  indexOffset: number;
  nRecords: number;
  /** IOs added to the writer, including all-zero/discard ones. */
  nData: number;
  checksum: number;
}

/**
 * Decodes one index record.
 *
 * @throws {CorruptDataError} when io_address or data_offset is past 2^53 − 1
 */
export function decodeIndexRecord(bytes: Uint8Array, offset: number, fileOffset = -1): IndexRecord {
  assert(offset + INDEX_RECORD_SIZE <= bytes.length, "index record out of buffer");
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, INDEX_RECORD_SIZE);
  const dataOffset = view.getBigUint64(16, true);
  if (dataOffset > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CorruptDataError(
      "wdiff index record",
      fileOffset,
      `data_offset ${dataOffset} is too large`,
    );
  }
  return {
    ioAddress: safeAddress(view.getBigUint64(0, true), "wdiff index record", fileOffset),
    ioBlocks: view.getUint32(8, true),
    flags: view.getUint8(12),
    compressionType: view.getUint8(13),
    dataOffset: Number(dataOffset),
    dataSize: view.getUint32(24, true),
    ioOffset: view.getUint32(28, true),
    origBlocks: view.getUint32(32, true),
    reserved2: view.getUint32(36, true),
    ioChecksum: view.getUint32(40, true),
    recChecksum: view.getUint32(44, true),
  };
}

/**
 * Encodes `record` at `offset` and seals it (rec_checksum computed; reserved1 zero,
 * reserved2 and flags as given).
 *
 * @returns the rec_checksum written
 */
export function encodeIndexRecord(record: IndexRecord, target: Uint8Array, offset: number): number {
  assert(Number.isSafeInteger(record.ioAddress) && record.ioAddress >= 0, "bad io_address");
  assert(record.ioBlocks >= 0 && record.ioBlocks <= 0xffffffff, "io_blocks out of u32");
  assert(Number.isSafeInteger(record.dataOffset) && record.dataOffset >= 0, "bad data_offset");
  const bytes = target.subarray(offset, offset + INDEX_RECORD_SIZE);
  const view = new DataView(bytes.buffer, bytes.byteOffset, INDEX_RECORD_SIZE);
  view.setBigUint64(0, BigInt(record.ioAddress), true);
  view.setUint32(8, record.ioBlocks, true);
  view.setUint8(12, record.flags);
  view.setUint8(13, record.compressionType);
  view.setUint16(14, 0, true);
  view.setBigUint64(16, BigInt(record.dataOffset), true);
  view.setUint32(24, record.dataSize, true);
  view.setUint32(28, record.ioOffset, true);
  view.setUint32(32, record.origBlocks, true);
  view.setUint32(36, record.reserved2 >>> 0, true);
  view.setUint32(40, record.ioChecksum >>> 0, true);
  view.setUint32(44, 0, true);
  const sum = checksum(bytes, 0);
  view.setUint32(44, sum, true);
  return sum;
}

/**
 * Why an index record is invalid, or null. Like the original: ALLZERO and DISCARD exclusive;
 * for normal records compression < 6, io_blocks ≠ 0 and a valid rec_checksum (not checked
 * for all-zero/discard records). Also the limits: orig_blocks, the piece inside its image,
 * the image inside the data area.
 *
 * @param record the decoded record
 * @param bytes the 48 stored bytes
 * @param indexOffset start of the index (end of the data area)
 */
export function indexRecordProblem(
  record: IndexRecord,
  bytes: Uint8Array,
  indexOffset: number,
): string | null {
  const kind = kindOfFlags(record.flags);
  if (kind === null) return `flags 0x${record.flags.toString(16)} set both ALLZERO and DISCARD`;
  if (kind !== "normal") return null;
  if (record.compressionType >= COMPRESSION_TYPE_COUNT) {
    return `compression_type is ${record.compressionType}, expected < 6`;
  }
  if (record.ioBlocks === 0) return "io_blocks is 0 in a normal record";
  const sum = checksum(bytes.subarray(0, INDEX_RECORD_SIZE), 0);
  if (sum !== 0) {
    return `rec_checksum is 0x${record.recChecksum.toString(16)}, expected 0x${
      ((record.recChecksum + sum) >>> 0).toString(16)
    }`;
  }
  if (record.origBlocks > LIMITS.wdiffNormalIoLbMax) {
    return `orig_blocks ${record.origBlocks} is over the limit ${LIMITS.wdiffNormalIoLbMax}`;
  }
  if (record.ioOffset + record.ioBlocks > record.origBlocks) {
    return `piece [${record.ioOffset}, +${record.ioBlocks}) passes orig_blocks ${record.origBlocks}`;
  }
  if (record.dataSize > storedSizeMax(record.origBlocks)) {
    return `data_size ${record.dataSize} is over the limit ${storedSizeMax(record.origBlocks)}`;
  }
  if (record.dataOffset < WDIFF_HEADER_SIZE || record.dataOffset + record.dataSize > indexOffset) {
    return `image [${record.dataOffset}, +${record.dataSize}) is outside the data area [32, ${indexOffset})`;
  }
  return null;
}

/** Decodes the super block (no validation). */
export function decodeIndexSuper(bytes: Uint8Array): IndexSuper {
  assert(bytes.length >= INDEX_SUPER_SIZE, "index super needs 24 bytes");
  const view = new DataView(bytes.buffer, bytes.byteOffset, INDEX_SUPER_SIZE);
  const indexOffset = view.getBigUint64(0, true);
  return {
    indexOffset: indexOffset > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(indexOffset),
    nRecords: view.getUint32(8, true),
    nData: view.getUint32(12, true),
    checksum: view.getUint32(20, true),
  };
}

/**
 * Decodes and validates the super block of a file of `fileSize` bytes: checksum, and an index
 * that starts after the header and fills whole 48-byte records up to the super block.
 *
 * @returns the super block and the number of index records (from the file size)
 * @throws {ChecksumMismatchError} on a bad checksum
 * @throws {CorruptDataError} on a bad index offset
 */
export function parseIndexSuper(
  bytes: Uint8Array,
  fileSize: number,
): { superBlock: IndexSuper; recordCount: number } {
  const offset = fileSize - INDEX_SUPER_SIZE;
  const what = "wdiff index super block";
  const superBlock = decodeIndexSuper(bytes);
  const sum = checksum(bytes.subarray(0, INDEX_SUPER_SIZE), 0);
  if (sum !== 0) {
    throw new ChecksumMismatchError(
      what,
      offset,
      (superBlock.checksum + sum) >>> 0,
      superBlock.checksum,
    );
  }
  const indexOffset = superBlock.indexOffset;
  if (indexOffset < WDIFF_HEADER_SIZE || indexOffset > offset) {
    throw new CorruptDataError(
      what,
      offset,
      `index_offset ${indexOffset} is outside [32, ${offset}]`,
    );
  }
  if ((offset - indexOffset) % INDEX_RECORD_SIZE !== 0) {
    throw new CorruptDataError(
      what,
      offset,
      `index [${indexOffset}, ${offset}) is not a whole number of 48-byte records`,
    );
  }
  return { superBlock, recordCount: (offset - indexOffset) / INDEX_RECORD_SIZE };
}

/** Builds a sealed super block. */
export function buildIndexSuper(indexOffset: number, nRecords: number, nData: number): Uint8Array {
  const bytes = new Uint8Array(INDEX_SUPER_SIZE);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(indexOffset), true);
  view.setUint32(8, nRecords, true);
  view.setUint32(12, nData >>> 0, true);
  view.setUint32(20, checksum(bytes, 0), true);
  return bytes;
}

const ALIGNMENT_MAX = 2 ** 31;

/** Largest power of two dividing `address`, capped at 2^31 (2^31 for 0). */
export function alignment(address: number): number {
  const low = address % ALIGNMENT_MAX;
  if (low === 0) return ALIGNMENT_MAX;
  return low & -low;
}

/** Largest power of two ≤ `size` (0 for 0). */
export function floorPow2(size: number): number {
  if (size < 1) return 0;
  let p = 2 ** Math.floor(Math.log2(size));
  while (p > size) p /= 2;
  while (p * 2 <= size) p *= 2;
  return p;
}

/** One piece of an aligned split. */
export interface AlignedPiece {
  address: number;
  blocks: number;
}

/**
 * Splits `[address, address + blocks)` into power-of-two pieces each aligned to its length
 * and at most floorPow2(maxBlocks) long (0 = unlimited), §5.4.
 *
 * @example
 * ```ts
 * import { splitAligned } from "./indexed_format.ts";
 * const pieces = splitAligned(3, 13, 0).map((p) => `${p.address}+${p.blocks}`).join(" ");
 * if (pieces !== "3+1 4+4 8+8") throw new Error(pieces);
 * ```
 */
export function splitAligned(address: number, blocks: number, maxBlocks: number): AlignedPiece[] {
  const pieces: AlignedPiece[] = [];
  forEachAligned(
    address,
    blocks,
    maxBlocks,
    (at, size) => pieces.push({ address: at, blocks: size }),
  );
  return pieces;
}

/**
 * {@link splitAligned} without the array: calls `visit` with each piece's address and length,
 * in address order. Why: the indexed writer splits every IO and every cut piece (63k pieces
 * for an issue #3 wlog), and the arrays and piece objects were garbage at once.
 *
 * @example
 * ```ts
 * import { forEachAligned } from "./indexed_format.ts";
 * const seen: string[] = [];
 * forEachAligned(3, 13, 4, (address, blocks) => seen.push(`${address}+${blocks}`));
 * if (seen.join(" ") !== "3+1 4+4 8+4 12+4") throw new Error(seen.join(" "));
 * ```
 */
export function forEachAligned(
  address: number,
  blocks: number,
  maxBlocks: number,
  visit: (address: number, blocks: number) => void,
): void {
  const m = floorPow2(maxBlocks);
  while (blocks > 0) {
    let s = alignment(address);
    if (s > blocks) s = floorPow2(blocks);
    if (m > 0) s = Math.min(s, m);
    visit(address, s);
    address += s;
    blocks -= s;
  }
}
