/**
 * The record-level data model shared by every wdiff reader, writer and algorithm
 * (wdiff-and-archive.md §6.1): a diff is a sequence of non-overlapping records in
 * increasing address order, each normal (with uncompressed data), all-zero or discard.
 *
 * Addresses and sizes are in logical blocks (512 bytes) and held as numbers: readers convert
 * u64 fields through `toSafeNumber`, so every value here is a safe integer.
 *
 * @module
 */

/** Kind of a diff record. */
export type DiffKind = "normal" | "allZero" | "discard";

/** One uncompressed diff record. */
export interface DiffRecord {
  /** First logical block. */
  ioAddress: number;
  /** Length in logical blocks (> 0). */
  ioBlocks: number;
  kind: DiffKind;
  /** Uncompressed data, exactly ioBlocks * 512 bytes, for normal records; null otherwise. */
  data: Uint8Array | null;
}

/** End address (exclusive) of a record. */
export function recordEnd(record: DiffRecord): number {
  return record.ioAddress + record.ioBlocks;
}
