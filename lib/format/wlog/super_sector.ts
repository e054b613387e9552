/**
 * The log device super sector (`walb_super_sector`, device-and-wlog.md §2.2), the ldev
 * byte map and lsid → position math (§2.1, §2.3), and what format-ldev writes (§2.4).
 *
 * @module
 */
import { ChecksumMismatchError, CorruptDataError } from "../../errors.ts";
import { checksum } from "../checksum/checksum.ts";
import {
  DISK_NAME_LEN,
  INVALID_LSID,
  isValidPbs,
  LOGICAL_BLOCK_SIZE,
  PAGE_SIZE,
  SECTOR_TYPE_SUPER,
  UUID_SIZE,
  WALB_LOG_VERSION,
} from "./constants.ts";

/** Byte offset of super sector 0 on every ldev, whatever the pbs. */
export const SUPER_SECTOR_OFFSET = PAGE_SIZE;
/** Bytes of the super sector structure (the rest of the pb is zero). */
export const SUPER_SECTOR_STRUCT_SIZE = 104;

/** A decoded super sector. */
export interface SuperSector {
  sectorType: number;
  version: number;
  checksum: number;
  logicalBs: number;
  /** pbs of the ldev. */
  pbs: number;
  /** Deprecated metadata area [pb]; always 0 when written, honoured in offset math. */
  metadataSize: number;
  /** Salt of logpack headers and payloads. */
  salt: number;
  uuid: Uint8Array;
  /** Device name (up to the NUL). */
  name: string;
  /** Ring buffer size [pb]. */
  ringBufferSize: bigint;
  oldestLsid: bigint;
  writtenLsid: bigint;
  /** Size of the WalB device [lb]. */
  deviceSize: bigint;
}

/** Fields to build a super sector; sector type, version and lbs take their fixed values. */
export type SuperSectorInit = Omit<
  SuperSector,
  "sectorType" | "version" | "checksum" | "logicalBs"
>;

/** pb index of the ring buffer start: 4096/pbs + 1 + metadata_size + 1 (§2.1). */
export function ringBufferOffsetPb(pbs: number, metadataSize = 0): number {
  if (!isValidPbs(pbs)) throw new RangeError(`physical block size ${pbs} is invalid`);
  return PAGE_SIZE / pbs + 1 + metadataSize + 1;
}

/** Where lsid lies on the ldev [pb]: RBO + lsid mod ring_buffer_size (§2.3). */
export function lsidToPbOffset(
  lsid: bigint,
  layout: { pbs: number; ringBufferSize: bigint; metadataSize?: number },
): bigint {
  if (layout.ringBufferSize <= 0n) throw new RangeError("ring buffer size must be positive");
  const rbo = BigInt(ringBufferOffsetPb(layout.pbs, layout.metadataSize ?? 0));
  return rbo + lsid % layout.ringBufferSize;
}

/** Where lsid lies on the ldev [byte]. */
export function lsidToByteOffset(
  lsid: bigint,
  layout: { pbs: number; ringBufferSize: bigint; metadataSize?: number },
): bigint {
  return lsidToPbOffset(lsid, layout) * BigInt(layout.pbs);
}

/** pb left before the ring end from lsid: ring_buffer_size - lsid mod ring_buffer_size. */
export function pbUntilRingEnd(lsid: bigint, ringBufferSize: bigint): bigint {
  return ringBufferSize - lsid % ringBufferSize;
}

/** The pbs stored in a super sector, from its first 16 bytes (offset 12). */
export function superSectorPbs(prefix: Uint8Array): number {
  if (prefix.length < 16) throw new RangeError("need 16 bytes of the super sector");
  return new DataView(prefix.buffer, prefix.byteOffset, 16).getUint32(12, true);
}

/**
 * Decodes a super sector pb without validating it.
 *
 * @throws {CorruptDataError} when the block is shorter than the structure or has no NUL in name
 */
export function decodeSuperSector(block: Uint8Array, offset = SUPER_SECTOR_OFFSET): SuperSector {
  if (block.length < SUPER_SECTOR_STRUCT_SIZE) {
    throw new CorruptDataError("super sector", offset, `block is only ${block.length} bytes`);
  }
  const view = new DataView(block.buffer, block.byteOffset, block.length);
  const nameBytes = block.subarray(40, 40 + DISK_NAME_LEN);
  const nul = nameBytes.indexOf(0);
  if (nul < 0) {
    throw new CorruptDataError("super sector", offset, "name is not NUL-terminated");
  }
  return {
    sectorType: view.getUint16(0, true),
    version: view.getUint16(2, true),
    checksum: view.getUint32(4, true),
    logicalBs: view.getUint32(8, true),
    pbs: view.getUint32(12, true),
    metadataSize: view.getUint32(16, true),
    salt: view.getUint32(20, true),
    uuid: block.slice(24, 24 + UUID_SIZE),
    name: new TextDecoder().decode(nameBytes.subarray(0, nul)),
    ringBufferSize: view.getBigUint64(72, true),
    oldestLsid: view.getBigUint64(80, true),
    writtenLsid: view.getBigUint64(88, true),
    deviceSize: view.getBigUint64(96, true),
  };
}

/**
 * Validity of a super sector (§2.2, driver and walb-tools rules, checksum included).
 *
 * @returns undefined when valid, else what is wrong
 */
export function superSectorProblem(
  block: Uint8Array,
  sup: SuperSector,
  options: { expectedPbs?: number } = {},
): string | undefined {
  if (sup.sectorType !== SECTOR_TYPE_SUPER) {
    return `sector_type is 0x${sup.sectorType.toString(16)}, expected 0x1`;
  }
  if (sup.version !== WALB_LOG_VERSION) return `version is ${sup.version}, expected 2`;
  if (!isValidPbs(sup.pbs)) return `physical_bs is ${sup.pbs}`;
  if (block.length !== sup.pbs) return `block is ${block.length} bytes, physical_bs ${sup.pbs}`;
  if (options.expectedPbs !== undefined && sup.pbs !== options.expectedPbs) {
    return `physical_bs is ${sup.pbs}, the device has ${options.expectedPbs}`;
  }
  const sum = checksum(block, 0);
  if (sum !== 0) return `checksum does not verify (sum 0x${sum.toString(16)})`;
  if (sup.logicalBs !== LOGICAL_BLOCK_SIZE) return `logical_bs is ${sup.logicalBs}`;
  if (sup.ringBufferSize === 0n) return "ring_buffer_size is 0";
  if (sup.oldestLsid === INVALID_LSID) return "oldest_lsid is INVALID_LSID";
  if (sup.writtenLsid === INVALID_LSID) return "written_lsid is INVALID_LSID";
  if (sup.oldestLsid > sup.writtenLsid) {
    return `oldest_lsid ${sup.oldestLsid} is over written_lsid ${sup.writtenLsid}`;
  }
  return undefined;
}

/**
 * Decodes and validates a super sector pb.
 *
 * @throws {ChecksumMismatchError} when the checksum does not verify
 * @throws {CorruptDataError} for any other rule
 */
export function parseSuperSector(
  block: Uint8Array,
  options: { offset?: number; expectedPbs?: number } = {},
): SuperSector {
  const offset = options.offset ?? SUPER_SECTOR_OFFSET;
  const sup = decodeSuperSector(block, offset);
  const problem = superSectorProblem(block, sup, options);
  if (problem === undefined) return sup;
  if (problem.startsWith("checksum")) {
    throw new ChecksumMismatchError("super sector", offset, checksum(block, 0), 0);
  }
  throw new CorruptDataError("super sector", offset, problem);
}

/**
 * Builds a sealed super sector pb (`pbs` bytes, zeros after the structure).
 * A name longer than 31 bytes (UTF-8) is truncated.
 */
export function buildSuperSector(init: SuperSectorInit): Uint8Array {
  if (!isValidPbs(init.pbs)) throw new RangeError(`physical block size ${init.pbs} is invalid`);
  if (init.uuid.length !== UUID_SIZE) throw new RangeError("uuid must be 16 bytes");
  const block = new Uint8Array(init.pbs);
  const view = new DataView(block.buffer);
  view.setUint16(0, SECTOR_TYPE_SUPER, true);
  view.setUint16(2, WALB_LOG_VERSION, true);
  view.setUint32(8, LOGICAL_BLOCK_SIZE, true);
  view.setUint32(12, init.pbs, true);
  view.setUint32(16, init.metadataSize, true);
  view.setUint32(20, init.salt >>> 0, true);
  block.set(init.uuid, 24);
  block.set(new TextEncoder().encode(init.name).subarray(0, DISK_NAME_LEN - 1), 40);
  view.setBigUint64(72, init.ringBufferSize, true);
  view.setBigUint64(80, init.oldestLsid, true);
  view.setBigUint64(88, init.writtenLsid, true);
  view.setBigUint64(96, init.deviceSize, true);
  view.setUint32(4, checksum(block, 0), true);
  return block;
}

/** Inputs of {@link formatLdevSuper}. */
export interface FormatLdevInput {
  /** ldev size [lb]. */
  ldevLb: bigint;
  /** ddev size [lb] (the WalB device size). */
  ddevLb: bigint;
  pbs: number;
  /** Random u32. */
  salt: number;
  /** 16 random bytes. */
  uuid: Uint8Array;
  name?: string;
}

/**
 * The super sector `wdevc format-ldev` writes (§2.4), as a pure function:
 * ring_buffer_size = floor(ldevLb / (pbs/512)) - (4096/pbs + 2), lsids 0.
 *
 * @throws {RangeError} when the ldev is too small for one ring pb
 * @example
 * ```ts
 * import { formatLdevSuper } from "./super_sector.ts";
 * const sup = formatLdevSuper({ ldevLb: 131072n, ddevLb: 2097152n, pbs: 512, salt: 1, uuid: new Uint8Array(16) });
 * if (sup.ringBufferSize !== 131062n) throw new Error("wrong");
 * ```
 */
export function formatLdevSuper(input: FormatLdevInput): SuperSectorInit {
  if (!isValidPbs(input.pbs)) throw new RangeError(`physical block size ${input.pbs} is invalid`);
  const ldevPb = input.ldevLb / BigInt(input.pbs / LOGICAL_BLOCK_SIZE);
  const ringBufferSize = ldevPb - BigInt(ringBufferOffsetPb(input.pbs));
  if (ringBufferSize <= 0n) throw new RangeError(`log device of ${input.ldevLb} lb is too small`);
  return {
    pbs: input.pbs,
    metadataSize: 0,
    salt: input.salt >>> 0,
    uuid: input.uuid.slice(),
    name: input.name ?? "",
    ringBufferSize,
    oldestLsid: 0n,
    writtenLsid: 0n,
    deviceSize: input.ddevLb,
  };
}
