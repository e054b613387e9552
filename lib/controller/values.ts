/**
 * The value types the controller reads from servers' text replies (controller-api.md §1.5):
 * snapshots `|g|` / `|b,e|`, diff lines, MetaState `<..>-YYYYMMDDhhmmss`, restorable lines
 * (GidInfo), LTSV records, and the sync options of archive info and replication. Snapshots,
 * diffs and states are the `lib/format/meta` values; only their text parsers live here.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { formatCompressOpt, parseCompressOpt } from "../codec/mod.ts";
import type { CompressOpt } from "../codec/codec.ts";
import {
  applyingState,
  formatMetaSnap,
  type MetaDiff,
  metaDiff,
  type MetaSnap,
  metaSnap,
  type MetaState,
  metaState,
  parseTimestampCompact,
} from "../format/meta/mod.ts";

/** 2^64 − 1: "no upper bound" for gid ranges. */
export const UINT64_MAX = (1n << 64n) - 1n;

function u64(text: string, what: string): bigint {
  if (!/^[0-9]{1,20}$/.test(text)) throw new UsageError(`bad ${what}:${text}`);
  const value = BigInt(text);
  if (value > UINT64_MAX) throw new UsageError(`bad ${what}:${text}`);
  return value;
}

/**
 * Parses `|g|` or `|b,e|` (b ≤ e).
 *
 * @example
 * ```ts
 * import { parseSnapshot } from "./values.ts";
 * const snap = parseSnapshot("|3,7|");
 * if (snap.gidB !== 3n || snap.gidE !== 7n) throw new Error();
 * ```
 * @throws {UsageError} for any other text
 */
export function parseSnapshot(text: string): MetaSnap {
  const match = /^\|([0-9]+)(?:,([0-9]+))?\|$/.exec(text);
  if (match === null) throw new UsageError(`bad snapshot:${text}`);
  const gidB = u64(match[1]!, "snapshot gid");
  const gidE = match[2] === undefined ? gidB : u64(match[2], "snapshot gid");
  if (gidB > gidE) throw new UsageError(`bad snapshot:${text}`);
  return metaSnap(gidB, gidE);
}

/** True when the snapshot is a range (gidB ≠ gidE). */
export function isDirtySnapshot(snap: MetaSnap): boolean {
  return snap.gidB !== snap.gidE;
}

/**
 * Parses `YYYY-MM-DDThh:mm:ss` (UTC) or `---` (0) into unix seconds.
 *
 * @throws {UsageError} for anything else
 */
export function parsePrettyTimestamp(text: string): number {
  if (text === "---") return 0;
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (match === null) throw new UsageError(`bad time:${text}`);
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(ms);
  if (back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || hour > 23) {
    throw new UsageError(`bad time:${text}`);
  }
  return ms / 1000;
}

/**
 * Parses a diff line `<B>--><E> <M|-><C|-> <time> <size>` (exactly 4 space-separated fields).
 *
 * @example
 * ```ts
 * import { parseDiffLine } from "./values.ts";
 * const d = parseDiffLine("|24|-->|25,26| M- 2015-11-16T07:32:08 1");
 * if (!d.isMergeable || d.snapE.gidE !== 26n || d.dataSize !== 1) throw new Error();
 * ```
 * @throws {UsageError} on a bad line
 */
export function parseDiffLine(line: string): MetaDiff {
  const fields = line.split(" ");
  if (fields.length !== 4) throw new UsageError(`bad diff line:${line}`);
  const [range, flags, time, size] = fields as [string, string, string, string];
  const snaps = range.split("-->");
  if (snaps.length !== 2) throw new UsageError(`bad diff line:${line}`);
  const snapB = parseSnapshot(snaps[0]!);
  const snapE = parseSnapshot(snaps[1]!);
  if (!/^[M-][C-]$/.test(flags)) throw new UsageError(`bad diff flags:${line}`);
  if (!/^[0-9]{1,15}$/.test(size)) throw new UsageError(`bad diff size:${line}`);
  if (snapB.gidB >= snapE.gidB || snapB.gidE > snapE.gidE) {
    throw new UsageError(`bad diff line:${line}`);
  }
  return metaDiff(snapB, snapE, {
    isMergeable: flags[0] === "M",
    isCompDiff: flags[1] === "C",
    timestamp: parsePrettyTimestamp(time),
    dataSize: Number(size),
  });
}

/**
 * Parses a MetaState text `<B>-YYYYMMDDhhmmss` or `<B-->E>-YYYYMMDDhhmmss`.
 *
 * @example
 * ```ts
 * import { parseMetaState } from "./values.ts";
 * const st = parseMetaState("<|2,3|-->|4,5|>-20151116073208");
 * if (!st.isApplying || st.snapE.gidB !== 4n) throw new Error();
 * ```
 * @param init `timestampOptional`: accept a missing `-timestamp` (as `dbg-set-base` does; 0)
 * @throws {UsageError} on a mismatch
 */
export function parseMetaState(
  text: string,
  init: { timestampOptional?: boolean } = {},
): MetaState {
  const match = /^<(\|[^|]+\|)(?:-->(\|[^|]+\|))?>(?:-(\d{14}))?$/.exec(text);
  if (match === null) throw new UsageError(`bad meta state:${text}`);
  if (match[3] === undefined && !init.timestampOptional) {
    throw new UsageError(`bad meta state:${text}`);
  }
  const snapB = parseSnapshot(match[1]!);
  let timestamp = 0;
  try {
    if (match[3] !== undefined) timestamp = parseTimestampCompact(match[3]);
  } catch (error) {
    throw new UsageError(`bad meta state time:${text}`, { cause: error });
  }
  if (match[2] === undefined) return metaState(snapB, timestamp);
  const snapE = parseSnapshot(match[2]);
  if (snapB.gidB >= snapE.gidB) throw new UsageError(`bad applying meta state:${text}`);
  return applyingState(snapB, snapE, timestamp);
}

/** One line of `get restorable`: `gid time [explicit]`. */
export interface GidInfo {
  /** The snapshot's gid. */
  gid: bigint;
  /** Unix seconds (0 for `---`). */
  timestamp: number;
  /** The time text as received. */
  timeText: string;
  /** `1`/`0`; undefined when absent. */
  isExplicit: boolean | undefined;
}

/**
 * Parses a restorable line.
 *
 * @throws {UsageError} on a bad line
 */
export function parseGidInfo(line: string): GidInfo {
  const fields = line.split(" ");
  if (fields.length < 2 || fields.length > 3) throw new UsageError(`bad gid info:${line}`);
  const explicitText = fields[2];
  if (explicitText !== undefined && explicitText !== "0" && explicitText !== "1") {
    throw new UsageError(`bad gid info:${line}`);
  }
  return {
    gid: u64(fields[0]!, "gid"),
    timestamp: parsePrettyTimestamp(fields[1]!),
    timeText: fields[1]!,
    isExplicit: explicitText === undefined ? undefined : explicitText === "1",
  };
}

/** The text form of a GidInfo (reproduces the line). */
export function formatGidInfo(info: GidInfo): string {
  const explicit = info.isExplicit === undefined ? "" : info.isExplicit ? " 1" : " 0";
  return `${info.gid} ${info.timeText}${explicit}`;
}

/**
 * Splits an LTSV line on TAB and each field at its first `:`.
 *
 * @throws {UsageError} for a field without `:`
 */
export function parseLtsv(line: string): Map<string, string> {
  const record = new Map<string, string>();
  for (const field of line.split("\t")) {
    const index = field.indexOf(":");
    if (index < 0) throw new UsageError(`bad ltsv field:${field}`);
    record.set(field.slice(0, index), field.slice(index + 1));
  }
  return record;
}

/** A size with an optional unit letter k/m/g/t/p (either case), the whole string checked. */
export function isSizeUnitText(text: string): boolean {
  return /^[0-9]+[kKmMgGtTpP]?$/.test(text);
}

/** Sync options of archive info and replication (§1.5). */
export interface SyncOpt {
  /** Compression of the sent wdiffs. */
  cmprOpt: CompressOpt;
  /** Delay of proxies before forwarding [s]. */
  delayS: number;
  /** Largest merged wdiff of replication (size with unit). */
  maxWdiffMergeSizeU: string;
  /** Bulk size of replication (size with unit). */
  bulkSizeU: string;
}

/**
 * Sync options with the defaults `snappy:0:1`, 0 s, `1G`, `64K`.
 *
 * @throws {UsageError} for a bad size text or delay
 */
export function syncOpt(init: Partial<SyncOpt> = {}): SyncOpt {
  const opt: SyncOpt = {
    cmprOpt: init.cmprOpt ?? parseCompressOpt("snappy:0:1"),
    delayS: init.delayS ?? 0,
    maxWdiffMergeSizeU: init.maxWdiffMergeSizeU ?? "1G",
    bulkSizeU: init.bulkSizeU ?? "64K",
  };
  if (!Number.isSafeInteger(opt.delayS) || opt.delayS < 0) {
    throw new UsageError(`bad delay:${opt.delayS}`);
  }
  for (const size of [opt.maxWdiffMergeSizeU, opt.bulkSizeU]) {
    if (!isSizeUnitText(size)) throw new UsageError(`bad size unit:${size}`);
  }
  return opt;
}

/** Archive-info arguments `[cmpr, delay]`. */
export function archiveInfoArgs(opt: SyncOpt): string[] {
  return [formatCompressOpt(opt.cmprOpt), String(opt.delayS)];
}

/** Replicate arguments `[cmpr, maxWdiffMergeSize, bulkSize]`. */
export function replicateArgs(opt: SyncOpt): string[] {
  return [formatCompressOpt(opt.cmprOpt), opt.maxWdiffMergeSizeU, opt.bulkSizeU];
}

/** `|B|-->|E|`: a diff's short text. */
export function formatDiffRange(diff: MetaDiff): string {
  return `${formatMetaSnap(diff.snapB)}-->${formatMetaSnap(diff.snapE)}`;
}
