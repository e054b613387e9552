/**
 * Diff statistics (offline-tools.md F9): record counts and block sums per kind, and the data
 * size, in the block and one-line text forms.
 *
 * @module
 */
import type { DiffKind } from "./diff_record.ts";

/** Counters of F9. */
export interface DiffStatistics {
  /** wdiff files counted (wdiff-show counts indexed files only, as the original). */
  wdiffCount: number;
  normalCount: number;
  allZeroCount: number;
  discardCount: number;
  normalLb: number;
  allZeroLb: number;
  discardLb: number;
  /** Σ data_size (sorted) or data area size (indexed) [bytes]. */
  dataSize: number;
}

/** Keys of {@link DiffStatistics}. */
export type DiffStatisticsKey = keyof DiffStatistics;

/** All-zero statistics. */
export function emptyDiffStatistics(): DiffStatistics {
  return {
    wdiffCount: 0,
    normalCount: 0,
    allZeroCount: 0,
    discardCount: 0,
    normalLb: 0,
    allZeroLb: 0,
    discardLb: 0,
    dataSize: 0,
  };
}

/**
 * Counts one record.
 *
 * @param stats updated in place
 * @param kind the record kind
 * @param ioBlocks its length [lb]
 */
export function countRecord(stats: DiffStatistics, kind: DiffKind, ioBlocks: number): void {
  if (kind === "normal") {
    stats.normalCount++;
    stats.normalLb += ioBlocks;
  } else if (kind === "allZero") {
    stats.allZeroCount++;
    stats.allZeroLb += ioBlocks;
  } else {
    stats.discardCount++;
    stats.discardLb += ioBlocks;
  }
}

/** Adds `other` into `stats`. */
export function addStatistics(stats: DiffStatistics, other: DiffStatistics): void {
  for (const key of Object.keys(stats) as DiffStatisticsKey[]) stats[key] += other[key];
}

/** Options of the formatters: counters that do not apply print as `---`. */
export interface StatisticsFormat {
  notApplicable?: readonly DiffStatisticsKey[];
}

function show(stats: DiffStatistics, key: DiffStatisticsKey, format: StatisticsFormat): string {
  return format.notApplicable?.includes(key) === true ? "---" : String(stats[key]);
}

/**
 * Block form: 8 lines `{prefix}{key} {value}` (no trailing newline on the array items).
 *
 * @example
 * ```ts
 * import { emptyDiffStatistics, formatStatisticsBlock } from "./stats.ts";
 * const lines = formatStatisticsBlock(emptyDiffStatistics(), "wdiff_stat: ");
 * if (lines[0] !== "wdiff_stat: wdiffNr 0" || lines.length !== 8) throw new Error("wrong");
 * ```
 */
export function formatStatisticsBlock(
  stats: DiffStatistics,
  prefix: string,
  format: StatisticsFormat = {},
): string[] {
  const rows: [string, DiffStatisticsKey][] = [
    ["wdiffNr", "wdiffCount"],
    ["normalNr", "normalCount"],
    ["allZeroNr", "allZeroCount"],
    ["discardNr", "discardCount"],
    ["normalLb", "normalLb"],
    ["allZeroLb", "allZeroLb"],
    ["discardLb", "discardLb"],
    ["dataSize", "dataSize"],
  ];
  return rows.map(([label, key]) => `${prefix}${label} ${show(stats, key, format)}`);
}

/** One-line form: `wdiffNr {n}  nrN {n} nrZ {n} nrD {n}  lbN {n} lbZ {n} lbD {n}  dataSize {n}`. */
export function formatStatisticsLine(stats: DiffStatistics, format: StatisticsFormat = {}): string {
  const v = (key: DiffStatisticsKey) => show(stats, key, format);
  return `wdiffNr ${v("wdiffCount")}  nrN ${v("normalCount")} nrZ ${v("allZeroCount")} nrD ${
    v("discardCount")
  }  lbN ${v("normalLb")} lbZ ${v("allZeroLb")} lbD ${v("discardLb")}  dataSize ${v("dataSize")}`;
}
