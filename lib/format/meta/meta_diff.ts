/**
 * MetaDiff: the metadata of one wdiff, from a begin snapshot to an end snapshot
 * (wdiff-and-archive.md §8.2, §12). Rules on diffs are in meta_rules.ts.
 *
 * @module
 */
import { assert, CorruptDataError, toSafeNumber } from "../../errors.ts";
import type { SerialReader } from "../serializer/reader.ts";
import type { SerialWriter } from "../serializer/writer.ts";
import {
  formatMetaSnap,
  isCleanSnap,
  isU64,
  type MetaSnap,
  readMetaSnap,
  snapEquals,
  writeMetaSnap,
} from "./meta_snap.ts";
import { formatTimestampListing } from "./timestamp.ts";

/** Preamble of a serialized MetaDiff. */
export const META_DIFF_PREAMBLE = 0x0312;

/** Metadata of one wdiff. */
export interface MetaDiff {
  /** The begin snapshot is implicit: this diff may be merged onto its predecessor (`M`). */
  readonly isMergeable: boolean;
  /** A compared diff (hash replication): never merged, applies only to its begin (`C`). */
  readonly isCompDiff: boolean;
  /** Unix seconds (UTC) of the snapshot reached by applying the diff. */
  readonly timestamp: number;
  /** The snapshot the diff applies to (its begin). */
  readonly snapB: MetaSnap;
  /** The snapshot reached after applying the diff (its end). */
  readonly snapE: MetaSnap;
  /** wdiff file size in bytes (0 when unknown). */
  readonly dataSize: number;
}

/** Fields of {@link metaDiff} besides the snapshots. */
export interface MetaDiffInit {
  /** See {@link MetaDiff.isMergeable} (default false). */
  isMergeable?: boolean;
  /** See {@link MetaDiff.isCompDiff} (default false). */
  isCompDiff?: boolean;
  /** Unix seconds (UTC) of snapE (default 0). */
  timestamp?: number;
  /** wdiff file size in bytes (default 0, unknown). */
  dataSize?: number;
}

/**
 * Why `snapB → snapE` breaks the progress constraint, or null when it holds
 * (`snapB.gidB < snapE.gidB` and `snapB.gidE ≤ snapE.gidE`, each snapshot gidB ≤ gidE).
 */
export function metaDiffProblem(snapB: MetaSnap, snapE: MetaSnap): string | null {
  if (snapB.gidB > snapB.gidE) return `snapB gidB ${snapB.gidB} > gidE ${snapB.gidE}`;
  if (snapE.gidB > snapE.gidE) return `snapE gidB ${snapE.gidB} > gidE ${snapE.gidE}`;
  if (snapB.gidB >= snapE.gidB) return `snapB.gidB ${snapB.gidB} >= snapE.gidB ${snapE.gidB}`;
  if (snapB.gidE > snapE.gidE) return `snapB.gidE ${snapB.gidE} > snapE.gidE ${snapE.gidE}`;
  return null;
}

/**
 * Makes a valid MetaDiff (asserts the progress constraint: a bad diff here is a bug).
 *
 * @example
 * ```ts
 * import { formatMetaDiff, metaDiff } from "./meta_diff.ts";
 * import { metaSnap } from "./meta_snap.ts";
 * const d = metaDiff(metaSnap(5n), metaSnap(10n), { isMergeable: true });
 * if (formatMetaDiff(d) !== "|5|-->|10|") throw new Error("wrong");
 * ```
 */
export function metaDiff(snapB: MetaSnap, snapE: MetaSnap, init: MetaDiffInit = {}): MetaDiff {
  assert(isU64(snapB.gidB) && isU64(snapB.gidE), "snapB gids are u64");
  assert(isU64(snapE.gidB) && isU64(snapE.gidE), "snapE gids are u64");
  const problem = metaDiffProblem(snapB, snapE);
  assert(problem === null, `MetaDiff progress constraint: ${problem}`);
  const timestamp = init.timestamp ?? 0;
  const dataSize = init.dataSize ?? 0;
  assert(Number.isSafeInteger(timestamp) && timestamp >= 0, "timestamp is a safe integer >= 0");
  assert(Number.isSafeInteger(dataSize) && dataSize >= 0, "dataSize is a safe integer >= 0");
  return {
    isMergeable: init.isMergeable ?? false,
    isCompDiff: init.isCompDiff ?? false,
    timestamp,
    snapB,
    snapE,
    dataSize,
  };
}

/** True iff both snapshots are clean. */
export function isCleanDiff(diff: MetaDiff): boolean {
  return isCleanSnap(diff.snapB) && isCleanSnap(diff.snapE);
}

/** Equality as the original defines it: snapB and snapE only. */
export function diffEquals(a: MetaDiff, b: MetaDiff): boolean {
  return snapEquals(a.snapB, b.snapB) && snapEquals(a.snapE, b.snapE);
}

/** `|B|-->|E|`. */
export function formatMetaDiff(diff: MetaDiff): string {
  return `${formatMetaSnap(diff.snapB)}-->${formatMetaSnap(diff.snapE)}`;
}

/**
 * The listing line `<text> <M|-><C|-> <YYYY-MM-DDTHH:MM:SS or ---> <dataSize>`.
 *
 * @example
 * ```ts
 * import { formatMetaDiffListing, metaDiff } from "./meta_diff.ts";
 * import { metaSnap } from "./meta_snap.ts";
 * const d = metaDiff(metaSnap(0n), metaSnap(1n), { timestamp: 1495601380, dataSize: 4128 });
 * if (formatMetaDiffListing(d) !== "|0|-->|1| -- 2017-05-24T04:49:40 4128") throw new Error();
 * ```
 */
export function formatMetaDiffListing(diff: MetaDiff): string {
  const flags = `${diff.isMergeable ? "M" : "-"}${diff.isCompDiff ? "C" : "-"}`;
  return `${formatMetaDiff(diff)} ${flags} ${
    formatTimestampListing(diff.timestamp)
  } ${diff.dataSize}`;
}

/** Serializes: preamble 0x0312, flags, timestamp, snapB, snapE, dataSize. */
export function writeMetaDiff(writer: SerialWriter, diff: MetaDiff): void {
  writer.u16(META_DIFF_PREAMBLE).bool(diff.isMergeable).bool(diff.isCompDiff);
  writer.u64(BigInt(diff.timestamp));
  writeMetaSnap(writer, diff.snapB);
  writeMetaSnap(writer, diff.snapE);
  writer.u64(BigInt(diff.dataSize));
}

/**
 * Reads a MetaDiff and checks its invariants.
 *
 * @throws {CorruptDataError} on bad bytes or a broken progress constraint
 * @throws {LimitExceededError} when timestamp or dataSize is past 2^53 - 1
 */
export function readMetaDiff(reader: SerialReader): MetaDiff {
  const offset = reader.offset;
  reader.preamble(META_DIFF_PREAMBLE, "MetaDiff");
  const isMergeable = reader.bool("MetaDiff isMergeable");
  const isCompDiff = reader.bool("MetaDiff isCompDiff");
  const timestamp = toSafeNumber(reader.u64("MetaDiff timestamp"), "MetaDiff timestamp");
  const snapB = readMetaSnap(reader);
  const snapE = readMetaSnap(reader);
  const dataSize = toSafeNumber(reader.u64("MetaDiff dataSize"), "MetaDiff dataSize");
  const problem = metaDiffProblem(snapB, snapE);
  if (problem !== null) throw new CorruptDataError("MetaDiff", offset, problem);
  return { isMergeable, isCompDiff, timestamp, snapB, snapE, dataSize };
}
