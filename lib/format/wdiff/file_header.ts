/**
 * The 32-byte wdiff file header shared by the sorted and indexed formats
 * (wdiff-and-archive.md §3).
 *
 * @module
 */
import { checksum } from "../checksum/checksum.ts";
import { assert, ChecksumMismatchError, CorruptDataError } from "../../errors.ts";

/** Size of the file header in bytes. */
export const WDIFF_HEADER_SIZE = 32;
/** The only wdiff version. */
export const WDIFF_VERSION = 2;
/** Size of the device UUID in bytes. */
export const WDIFF_UUID_SIZE = 16;

/** Header `type` codes. */
export const WdiffType = { sorted: 0, indexed: 1 } as const;
/** A valid header type code. */
export type WdiffTypeCode = (typeof WdiffType)[keyof typeof WdiffType];

/** A decoded file header (fields as stored; `type` may be invalid until validated). */
export interface WdiffHeader {
  checksum: number;
  version: number;
  type: number;
  /** 16 raw bytes (a copy). */
  uuid: Uint8Array;
}

/**
 * Decodes the 32 header bytes without validating them (wdiff-show prints invalid headers).
 *
 * @param bytes at least 32 bytes
 * @returns the fields as stored
 */
export function decodeWdiffHeader(bytes: Uint8Array): WdiffHeader {
  assert(bytes.length >= WDIFF_HEADER_SIZE, "wdiff header needs 32 bytes");
  const view = new DataView(bytes.buffer, bytes.byteOffset, WDIFF_HEADER_SIZE);
  return {
    checksum: view.getUint32(0, true),
    version: view.getUint16(4, true),
    type: view.getUint8(6),
    uuid: bytes.slice(16, 32),
  };
}

/**
 * Decodes and validates a file header: checksum, version 2, type 0 or 1.
 *
 * @param bytes the 32 header bytes (file offset 0)
 * @returns the validated header
 * @throws {ChecksumMismatchError} when the checksum does not verify
 * @throws {CorruptDataError} on a bad version or type
 *
 * @example
 * ```ts
 * import { buildWdiffHeader, parseWdiffHeader, WdiffType } from "./file_header.ts";
 * const header = parseWdiffHeader(buildWdiffHeader(WdiffType.indexed, new Uint8Array(16)));
 * if (header.type !== 1 || header.checksum !== 0xfffefffe) throw new Error("wrong");
 * ```
 */
export function parseWdiffHeader(bytes: Uint8Array): WdiffHeader & { type: WdiffTypeCode } {
  if (bytes.length < WDIFF_HEADER_SIZE) {
    throw new CorruptDataError("wdiff header", 0, `only ${bytes.length} of 32 bytes`);
  }
  const header = decodeWdiffHeader(bytes);
  const sum = checksum(bytes.subarray(0, WDIFF_HEADER_SIZE), 0);
  if (sum !== 0) {
    throw new ChecksumMismatchError(
      "wdiff header",
      0,
      (header.checksum + sum) >>> 0,
      header.checksum,
    );
  }
  if (header.version !== WDIFF_VERSION) {
    throw new CorruptDataError("wdiff header", 0, `version is ${header.version}, expected 2`);
  }
  if (header.type !== WdiffType.sorted && header.type !== WdiffType.indexed) {
    throw new CorruptDataError("wdiff header", 0, `type is ${header.type}, expected 0 or 1`);
  }
  return { ...header, type: header.type };
}

/**
 * Builds a sealed 32-byte header.
 *
 * @param type 0 sorted, 1 indexed
 * @param uuid 16 bytes (zero UUID for tools that write none)
 * @returns the header bytes, checksum filled in
 */
export function buildWdiffHeader(type: WdiffTypeCode, uuid: Uint8Array): Uint8Array {
  assert(uuid.length === WDIFF_UUID_SIZE, "wdiff uuid must be 16 bytes");
  const bytes = new Uint8Array(WDIFF_HEADER_SIZE);
  const view = new DataView(bytes.buffer);
  view.setUint16(4, WDIFF_VERSION, true);
  view.setUint8(6, type);
  bytes.set(uuid, 16);
  view.setUint32(0, checksum(bytes, 0), true);
  assert(checksum(bytes, 0) === 0, "built wdiff header must verify");
  return bytes;
}

/** The UUID as 32 lowercase hex digits in byte order. */
export function uuidHex(uuid: Uint8Array): string {
  let text = "";
  for (const byte of uuid) text += byte.toString(16).padStart(2, "0");
  return text;
}
