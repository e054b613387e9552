/**
 * MetaLsidGid: a storage-side snapshot record (lsid, gid) used by the done record and the
 * snapshot queue (wdiff-and-archive.md §8.4, §10, §12).
 *
 * @module
 */
import { assert, toSafeNumber } from "../../errors.ts";
import type { SerialReader } from "../serializer/reader.ts";
import type { SerialWriter } from "../serializer/writer.ts";
import { isU64 } from "./meta_snap.ts";
import { formatTimestampListing } from "./timestamp.ts";

/** Preamble of a serialized MetaLsidGid. */
export const META_LSID_GID_PREAMBLE = 0x0314;

/** One storage snapshot record. */
export interface MetaLsidGid {
  /** The snapshot is implicit (taken automatically). */
  readonly isMergeable: boolean;
  /** Unix seconds when taken. */
  readonly timestamp: number;
  /** Log sequence id at the snapshot (u64). */
  readonly lsid: bigint;
  /** gid assigned (u64). */
  readonly gid: bigint;
}

/** Makes a record (asserts u64 fields and a safe timestamp). */
export function metaLsidGid(
  lsid: bigint,
  gid: bigint,
  init: { isMergeable?: boolean; timestamp?: number } = {},
): MetaLsidGid {
  assert(isU64(lsid) && isU64(gid), "lsid and gid are u64");
  const timestamp = init.timestamp ?? 0;
  assert(Number.isSafeInteger(timestamp) && timestamp >= 0, "timestamp is a safe integer >= 0");
  return { isMergeable: init.isMergeable ?? false, timestamp, lsid, gid };
}

/** A debugging text: `lsid {lsid} gid {gid} {M|-} {timestamp}`. */
export function formatMetaLsidGid(record: MetaLsidGid): string {
  const flag = record.isMergeable ? "M" : "-";
  return `lsid ${record.lsid} gid ${record.gid} ${flag} ${
    formatTimestampListing(record.timestamp)
  }`;
}

/** Serializes: preamble 0x0314, isMergeable, timestamp, lsid, gid. */
export function writeMetaLsidGid(writer: SerialWriter, record: MetaLsidGid): void {
  writer.u16(META_LSID_GID_PREAMBLE).bool(record.isMergeable).u64(BigInt(record.timestamp));
  writer.u64(record.lsid).u64(record.gid);
}

/**
 * Reads a MetaLsidGid.
 *
 * @throws {CorruptDataError} on bad bytes
 * @throws {LimitExceededError} when the timestamp is past 2^53 - 1
 */
export function readMetaLsidGid(reader: SerialReader): MetaLsidGid {
  reader.preamble(META_LSID_GID_PREAMBLE, "MetaLsidGid");
  const isMergeable = reader.bool("MetaLsidGid isMergeable");
  const timestamp = toSafeNumber(reader.u64("MetaLsidGid timestamp"), "MetaLsidGid timestamp");
  const lsid = reader.u64("MetaLsidGid lsid");
  const gid = reader.u64("MetaLsidGid gid");
  return { isMergeable, timestamp, lsid, gid };
}
