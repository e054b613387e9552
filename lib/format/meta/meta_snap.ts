/**
 * MetaSnap: a clean (one gid) or dirty (a gid interval) snapshot of a volume
 * (wdiff-and-archive.md §8.1, §12).
 *
 * @module
 */
import { assert, CorruptDataError } from "../../errors.ts";
import type { SerialReader } from "../serializer/reader.ts";
import type { SerialWriter } from "../serializer/writer.ts";

/** Largest u64; as a gid it means "none" (the default MetaSnap). */
export const GID_NONE = (1n << 64n) - 1n;

/** Preamble of a serialized MetaSnap. */
export const META_SNAP_PREAMBLE = 0x0311;

/** A snapshot: gidB ≤ gidE; clean iff gidB == gidE. */
export interface MetaSnap {
  /** Begin gid (u64). */
  readonly gidB: bigint;
  /** End gid (u64). */
  readonly gidE: bigint;
}

/** True if `gid` is a u64. */
export function isU64(gid: bigint): boolean {
  return gid >= 0n && gid <= GID_NONE;
}

/**
 * Makes a snapshot `|gidB|` or `|gidB,gidE|`.
 *
 * @param gidB begin gid
 * @param gidE end gid (default: gidB, a clean snapshot)
 * @example
 * ```ts
 * import { formatMetaSnap, metaSnap } from "./meta_snap.ts";
 * if (formatMetaSnap(metaSnap(3n, 7n)) !== "|3,7|") throw new Error("wrong");
 * ```
 */
export function metaSnap(gidB: bigint, gidE: bigint = gidB): MetaSnap {
  assert(isU64(gidB) && isU64(gidE), "snapshot gids are u64");
  assert(gidB <= gidE, "snapshot gidB <= gidE");
  return { gidB, gidE };
}

/** The default snapshot `|2^64-1|` ("none"). */
export const SNAP_NONE: MetaSnap = { gidB: GID_NONE, gidE: GID_NONE };

/** True if the snapshot is one instant (gidB == gidE). */
export function isCleanSnap(snap: MetaSnap): boolean {
  return snap.gidB === snap.gidE;
}

/** Equality of both gids. */
export function snapEquals(a: MetaSnap, b: MetaSnap): boolean {
  return a.gidB === b.gidB && a.gidE === b.gidE;
}

/** `|B|` when clean, `|B,E|` when dirty. */
export function formatMetaSnap(snap: MetaSnap): string {
  return isCleanSnap(snap) ? `|${snap.gidB}|` : `|${snap.gidB},${snap.gidE}|`;
}

/** Serializes: preamble 0x0311, gidB u64, gidE u64. */
export function writeMetaSnap(writer: SerialWriter, snap: MetaSnap): void {
  writer.u16(META_SNAP_PREAMBLE).u64(snap.gidB).u64(snap.gidE);
}

/**
 * Reads a MetaSnap and checks gidB ≤ gidE.
 *
 * @throws {CorruptDataError} on a bad preamble, truncation or gidB > gidE
 */
export function readMetaSnap(reader: SerialReader): MetaSnap {
  const offset = reader.offset;
  reader.preamble(META_SNAP_PREAMBLE, "MetaSnap");
  const gidB = reader.u64("MetaSnap gidB");
  const gidE = reader.u64("MetaSnap gidE");
  if (gidB > gidE) throw new CorruptDataError("MetaSnap", offset, `gidB ${gidB} > gidE ${gidE}`);
  return { gidB, gidE };
}
