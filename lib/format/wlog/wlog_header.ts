/**
 * The wlog file header (`walblog_header`, device-and-wlog.md §4.1): 56 bytes used in a
 * 4096-byte block, self-verifying checksum with salt 0.
 *
 * @module
 */
import { ChecksumMismatchError, CorruptDataError } from "../../errors.ts";
import { checksum } from "../checksum/checksum.ts";
import {
  isValidPbs,
  LOGICAL_BLOCK_SIZE,
  SECTOR_TYPE_WALBLOG_HEADER,
  UUID_SIZE,
  uuidToHex,
  WALB_LOG_VERSION,
  WALBLOG_HEADER_SIZE,
} from "./constants.ts";

/** A wlog file header. */
export interface WlogHeader {
  sectorType: number;
  version: number;
  headerSize: number;
  checksum: number;
  /** Salt of the logpacks inside. */
  salt: number;
  logicalBs: number;
  /** pbs of the logpacks inside. */
  pbs: number;
  uuid: Uint8Array;
  /** lsid of the first pack. */
  beginLsid: bigint;
  /** Upper bound; may be larger than the real end (often 2^64 - 1). */
  endLsid: bigint;
}

/** Fields needed to build a header; the rest take their fixed values. */
export interface WlogHeaderInit {
  salt: number;
  pbs: number;
  uuid: Uint8Array;
  beginLsid: bigint;
  endLsid: bigint;
}

/**
 * Decodes a 4096-byte wlog header block without validating it.
 *
 * @throws {CorruptDataError} when the block is not 4096 bytes
 */
export function decodeWlogHeader(block: Uint8Array, offset = 0): WlogHeader {
  if (block.length !== WALBLOG_HEADER_SIZE) {
    throw new CorruptDataError(
      "wlog header",
      offset,
      `block is ${block.length} bytes, expected ${WALBLOG_HEADER_SIZE}`,
    );
  }
  const view = new DataView(block.buffer, block.byteOffset, block.length);
  return {
    sectorType: view.getUint16(0, true),
    version: view.getUint16(2, true),
    headerSize: view.getUint16(4, true),
    checksum: view.getUint32(8, true),
    salt: view.getUint32(12, true),
    logicalBs: view.getUint32(16, true),
    pbs: view.getUint32(20, true),
    uuid: block.slice(24, 24 + UUID_SIZE),
    beginLsid: view.getBigUint64(40, true),
    endLsid: view.getBigUint64(48, true),
  };
}

/**
 * Validity (§4.1, with the C header's stricter lbs/pbs check): sector_type 4, version 2,
 * checksum, logical_bs 512, a valid pbs, begin_lsid < end_lsid.
 *
 * @returns undefined when valid, else what is wrong
 */
export function wlogHeaderProblem(block: Uint8Array, header: WlogHeader): string | undefined {
  if (header.sectorType !== SECTOR_TYPE_WALBLOG_HEADER) {
    return `sector_type is 0x${header.sectorType.toString(16)}, expected 0x4`;
  }
  if (header.version !== WALB_LOG_VERSION) return `version is ${header.version}, expected 2`;
  const sum = checksum(block, 0);
  if (sum !== 0) return `checksum does not verify (sum 0x${sum.toString(16)})`;
  if (header.logicalBs !== LOGICAL_BLOCK_SIZE) return `logical_bs is ${header.logicalBs}`;
  if (!isValidPbs(header.pbs)) return `physical_bs is ${header.pbs}`;
  if (header.beginLsid >= header.endLsid) {
    return `begin_lsid ${header.beginLsid} is not below end_lsid ${header.endLsid}`;
  }
  return undefined;
}

/**
 * Decodes and validates a wlog header block.
 *
 * @param block 4096 bytes
 * @param offset file offset of the block, for error messages
 * @throws {ChecksumMismatchError} when the checksum does not verify
 * @throws {CorruptDataError} for any other rule
 */
export function parseWlogHeader(block: Uint8Array, offset = 0): WlogHeader {
  const header = decodeWlogHeader(block, offset);
  const problem = wlogHeaderProblem(block, header);
  if (problem === undefined) return header;
  if (problem.startsWith("checksum")) {
    throw new ChecksumMismatchError("wlog header", offset, checksum(block, 0), 0);
  }
  throw new CorruptDataError("wlog header", offset, problem);
}

/**
 * Builds a sealed 4096-byte wlog header.
 *
 * @example
 * ```ts
 * import { buildWlogHeader, parseWlogHeader } from "./wlog_header.ts";
 * const block = buildWlogHeader({
 *   salt: 0x89abcdef, pbs: 512, uuid: new Uint8Array(16), beginLsid: 100n, endLsid: 2n ** 64n - 1n,
 * });
 * if (parseWlogHeader(block).beginLsid !== 100n) throw new Error("wrong");
 * ```
 */
export function buildWlogHeader(init: WlogHeaderInit): Uint8Array {
  if (init.uuid.length !== UUID_SIZE) throw new RangeError("uuid must be 16 bytes");
  const block = new Uint8Array(WALBLOG_HEADER_SIZE);
  const view = new DataView(block.buffer);
  view.setUint16(0, SECTOR_TYPE_WALBLOG_HEADER, true);
  view.setUint16(2, WALB_LOG_VERSION, true);
  view.setUint16(4, WALBLOG_HEADER_SIZE, true);
  view.setUint32(12, init.salt >>> 0, true);
  view.setUint32(16, LOGICAL_BLOCK_SIZE, true);
  view.setUint32(20, init.pbs, true);
  block.set(init.uuid, 24);
  view.setBigUint64(40, init.beginLsid, true);
  view.setBigUint64(48, init.endLsid, true);
  view.setUint32(8, checksum(block, 0), true);
  return block;
}

/** F1: `wlog_h: ver {version:3} pbs {pbs:4} salt {salt:08x} uuid {uuid} lsid {begin} {end}`. */
export function formatWlogHeader(header: WlogHeader): string {
  return `wlog_h: ver ${String(header.version).padStart(3)} pbs ${
    String(header.pbs).padStart(4)
  } salt ${header.salt.toString(16).padStart(8, "0")} uuid ${
    uuidToHex(header.uuid)
  } lsid ${header.beginLsid} ${header.endLsid}`;
}
