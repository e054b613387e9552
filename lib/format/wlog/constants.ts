/**
 * Constants of the WalB on-disk formats (device-and-wlog.md, table at the top).
 *
 * @module
 */

/** Logical block size in bytes. */
export const LOGICAL_BLOCK_SIZE = 512;
/** Page size the layout is fixed to (device-and-wlog.md §2.1). */
export const PAGE_SIZE = 4096;
/** On-disk format version of the super sector and of the wlog file header. */
export const WALB_LOG_VERSION = 2;
/** `sector_type` of a super sector. */
export const SECTOR_TYPE_SUPER = 0x0001;
/** `sector_type` of a logpack header block. */
export const SECTOR_TYPE_LOGPACK = 0x0003;
/** `sector_type` of a wlog file header. */
export const SECTOR_TYPE_WALBLOG_HEADER = 0x0004;
/** "No lsid" (2^64 - 1); also the lsid of the end block. */
export const INVALID_LSID = (1n << 64n) - 1n;
/** Largest usable lsid (2^64 - 2). */
export const MAX_LSID = INVALID_LSID - 1n;
/** Largest `io_size` [lb] of a non-discard record. */
export const MAX_NORMAL_IO_SECTORS = 65535;
/** Largest `io_size` [lb] of a discard record (u32). */
export const MAX_DISCARD_IO_SECTORS = 0xffffffff;
/** Largest `total_io_size` [pb] of one logpack (u16). */
export const MAX_TOTAL_IO_SIZE_IN_LOGPACK_HEADER = 65535;
/** Size of name fields including the NUL. */
export const DISK_NAME_LEN = 32;
/** Size of a uuid in bytes. */
export const UUID_SIZE = 16;
/** Size of the wlog file header block. */
export const WALBLOG_HEADER_SIZE = 4096;

/** Record flag: the record exists (bit 0). */
export const LOG_RECORD_EXIST = 1;
/** Record flag: padding (bit 1). */
export const LOG_RECORD_PADDING = 2;
/** Record flag: discard (bit 2). */
export const LOG_RECORD_DISCARD = 4;

/** True if `pbs` is one of the physical block sizes WalB supports (512, 1024, 2048, 4096). */
export function isValidPbs(pbs: number): boolean {
  return pbs === 512 || pbs === 1024 || pbs === 2048 || pbs === 4096;
}

/** Number of pb needed for `ioSizeLb` logical blocks: ceil(ioSizeLb * 512 / pbs). */
export function lbToPbCount(ioSizeLb: number, pbs: number): number {
  const lbPerPb = pbs / LOGICAL_BLOCK_SIZE;
  return Math.ceil(ioSizeLb / lbPerPb);
}

/** 32 lowercase hex digits of a uuid, in byte order. */
export function uuidToHex(uuid: Uint8Array): string {
  return Array.from(uuid, (b) => b.toString(16).padStart(2, "0")).join("");
}
