/**
 * Stored record data: compression with the "only if smaller" rule (wdiff-and-archive.md §2.1)
 * and checksum verification plus exact-size decompression (§2.2), for both wdiff formats.
 *
 * @module
 */
import { compressIfSmaller, decompressExact, decompressExactInto } from "../../codec/mod.ts";
import { CompressionType, type CompressionTypeCode } from "../../codec/codec.ts";
import { checksum } from "../checksum/checksum.ts";
import {
  assert,
  ChecksumMismatchError,
  CorruptDataError,
  LimitExceededError,
} from "../../errors.ts";

/** Codec and level used by a writer. */
export interface CompressionSetting {
  type: CompressionTypeCode;
  /** 0 = the codec's default level. */
  level: number;
}

/** snappy:0, the default of every wdiff writer (§2.4). */
export const DEFAULT_COMPRESSION: CompressionSetting = Object.freeze({
  type: CompressionType.snappy,
  level: 0,
});

/** Stored form of one data image. */
export interface StoredData {
  compressionType: CompressionTypeCode;
  stored: Uint8Array;
  checksum: number;
}

/** csum(bytes, 0) of byte arrays whose sum is already known (see {@link rememberChecksum}). */
const knownChecksums = new WeakMap<Uint8Array, number>();

/**
 * Records that csum(`bytes`, 0) is `checksumSalt0`, so that {@link storeData} storing exactly
 * this view raw need not sum it again. Why: the wlog reader has just verified each IO's payload
 * checksum with the log's salt, and csum(x, 0) = csum(x, salt) + salt (mod 2^32); random data
 * is stored raw, and the second pass over it was a tenth of the conversion's CPU time. The key
 * is the view object itself (a subarray is another key), and the bytes must not change later.
 *
 * @param bytes a view whose bytes stay unchanged
 * @param checksumSalt0 csum(bytes, 0)
 */
export function rememberChecksum(bytes: Uint8Array, checksumSalt0: number): void {
  knownChecksums.set(bytes, checksumSalt0 >>> 0);
}

/**
 * Compresses `data` with `setting` if that makes it strictly smaller, else stores it raw.
 *
 * @param data uncompressed bytes
 * @param setting codec and level
 * @param checksumSalt0 csum(data, 0) when the caller knows it (e.g. the data is a record's
 *   verified raw stored bytes), used when the data is stored raw
 * @returns the stored bytes, their codec and csum(stored, 0)
 */
export function storeData(
  data: Uint8Array,
  setting: CompressionSetting,
  checksumSalt0?: number,
): StoredData {
  const result = setting.type === CompressionType.none
    ? { type: CompressionType.none as CompressionTypeCode, data }
    : compressIfSmaller(setting.type, data, setting.level);
  const known = result.data === data
    ? (checksumSalt0 !== undefined ? checksumSalt0 >>> 0 : knownChecksums.get(data))
    : undefined;
  return {
    compressionType: result.type,
    stored: result.data,
    checksum: known ?? checksum(result.data, 0),
  };
}

/** What {@link loadData} needs to know about the stored bytes. */
export interface StoredDataInfo {
  compressionType: number;
  checksum: number;
  /** Exact uncompressed size in bytes. */
  outputSize: number;
}

/**
 * Verifies the checksum of stored bytes and decompresses them to exactly `outputSize` bytes.
 *
 * @param stored the stored bytes (not kept; the result is a new array unless uncompressed and
 *   `copy` is false)
 * @param info codec, checksum and expected size
 * @param what and fileOffset name the data in errors
 * @returns the uncompressed bytes
 * @throws {ChecksumMismatchError} when csum(stored) differs
 * @throws {CorruptDataError} when decompression fails or gives another size
 */
export function loadData(
  stored: Uint8Array,
  info: StoredDataInfo,
  what: string,
  fileOffset: number,
  copy = true,
): Uint8Array {
  verifyStoredChecksum(stored, info, what, fileOffset);
  return decodeStoredData(stored, info, what, fileOffset, copy);
}

/**
 * The checksum half of {@link loadData}: verifies csum(stored) against the record.
 *
 * @throws {ChecksumMismatchError} when csum(stored) differs
 */
export function verifyStoredChecksum(
  stored: Uint8Array,
  info: StoredDataInfo,
  what: string,
  fileOffset: number,
): void {
  const sum = checksum(stored, 0);
  if (sum !== info.checksum) throw new ChecksumMismatchError(what, fileOffset, sum, info.checksum);
}

/**
 * The decoding half of {@link loadData} (the checksum was verified): decompresses `stored` to
 * exactly `info.outputSize` bytes.
 *
 * @throws {CorruptDataError} when decompression fails or gives another size
 */
export function decodeStoredData(
  stored: Uint8Array,
  info: StoredDataInfo,
  what: string,
  fileOffset: number,
  copy = true,
): Uint8Array {
  if (info.compressionType === CompressionType.none) {
    checkRawSize(stored, info, what, fileOffset);
    return copy ? stored.slice() : stored;
  }
  try {
    return decompressExact(
      info.compressionType as CompressionTypeCode,
      stored,
      info.outputSize,
      fileOffset,
    );
  } catch (error) {
    throw asDecodeError(error, what, fileOffset);
  }
}

/**
 * {@link decodeStoredData} of compressed bytes into `target` (exactly `info.outputSize` bytes),
 * e.g. a buffer reused record after record by a consumer that writes each out at once.
 *
 * @throws {CorruptDataError} when decompression fails or gives another size
 */
export function decodeStoredDataInto(
  stored: Uint8Array,
  info: StoredDataInfo,
  target: Uint8Array,
  what: string,
  fileOffset: number,
): void {
  assert(target.length === info.outputSize, "target size differs from the output size");
  if (info.compressionType === CompressionType.none) {
    checkRawSize(stored, info, what, fileOffset);
    target.set(stored);
    return;
  }
  try {
    decompressExactInto(info.compressionType as CompressionTypeCode, stored, target, fileOffset);
  } catch (error) {
    throw asDecodeError(error, what, fileOffset);
  }
}

function checkRawSize(
  stored: Uint8Array,
  info: StoredDataInfo,
  what: string,
  fileOffset: number,
): void {
  if (stored.length !== info.outputSize) {
    throw new CorruptDataError(
      what,
      fileOffset,
      `uncompressed data is ${stored.length} bytes, expected ${info.outputSize}`,
    );
  }
}

/** The error to throw for a failed decompression (bad input is a CorruptDataError). */
function asDecodeError(error: unknown, what: string, fileOffset: number): unknown {
  if (error instanceof CorruptDataError || error instanceof LimitExceededError) return error;
  // A decoder fed corrupt bytes may fail with its own error type: this is still bad input.
  if (error instanceof Error && !(error.name === "AssertionError")) {
    return new CorruptDataError(what, fileOffset, `cannot decompress: ${error.message}`, {
      cause: error,
    });
  }
  return error;
}
