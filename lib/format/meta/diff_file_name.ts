/**
 * wdiff file names (wdiff-and-archive.md §11): `TS-MC-B-E.wdiff` for clean diffs and
 * `TS-MC-BB-BE-EB-EE.wdiff` for dirty ones, TS = `YYYYMMDDhhmmss` UTC of the timestamp.
 *
 * @module
 */
import { CorruptDataError } from "../../errors.ts";
import { isCleanDiff, type MetaDiff, metaDiffProblem } from "./meta_diff.ts";
import { GID_NONE, type MetaSnap } from "./meta_snap.ts";
import { formatTimestampCompact, parseTimestampCompact } from "./timestamp.ts";

/** Suffix of every wdiff file name. */
export const WDIFF_SUFFIX = ".wdiff";

/** Shortest parsable name: the length of `YYYYMMDDhhmmss-MC-0-1.wdiff`. */
export const DIFF_FILE_NAME_SIZE_MIN = 27;

/**
 * The canonical file name of `diff` (the form the servers locate files by). Does not check
 * the MetaDiff rules, as wdiff-name-gen does not.
 *
 * @example
 * ```ts
 * import { createDiffFileName } from "./diff_file_name.ts";
 * import { metaDiff } from "./meta_diff.ts";
 * import { metaSnap } from "./meta_snap.ts";
 * const d = metaDiff(metaSnap(5n), metaSnap(10n), { isMergeable: true, timestamp: 1388631845 });
 * if (createDiffFileName(d) !== "20140102030405-M--5-10.wdiff") throw new Error("wrong");
 * ```
 */
export function createDiffFileName(diff: MetaDiff): string {
  const flags = `${diff.isMergeable ? "M" : "-"}${diff.isCompDiff ? "C" : "-"}`;
  const { snapB, snapE } = diff;
  const gids = isCleanDiff(diff)
    ? `${snapB.gidB}-${snapE.gidB}`
    : `${snapB.gidB}-${snapB.gidE}-${snapE.gidB}-${snapE.gidE}`;
  return `${formatTimestampCompact(diff.timestamp)}-${flags}-${gids}${WDIFF_SUFFIX}`;
}

function fail(name: string, offset: number, detail: string): never {
  throw new CorruptDataError("wdiff file name", offset, `${detail}:${name}`);
}

/**
 * Parses a wdiff file name with the original's rules: a flag char other than `M`/`C` means
 * "not set", gids may have leading zeros, more than four gids are ignored past the fourth,
 * text after the first `.wdiff` is ignored. dataSize is 0.
 *
 * @throws {CorruptDataError} when the name does not follow the grammar or the MetaDiff
 *   invariants (offset = character index in the name)
 * @example
 * ```ts
 * import { parseDiffFileName } from "./diff_file_name.ts";
 * const d = parseDiffFileName("20140102030405-MC-0005-010.wdiff");
 * if (d.snapB.gidB !== 5n || d.snapE.gidB !== 10n || !d.isCompDiff) throw new Error("wrong");
 * ```
 */
export function parseDiffFileName(name: string): MetaDiff {
  if (name.length < DIFF_FILE_NAME_SIZE_MIN) fail(name, 0, "too short name");
  const timestamp = parseTimestampCompact(name.slice(0, 14), 0);
  if (name[14] !== "-") fail(name, 14, "bad separator after the time");
  const isMergeable = name[15] === "M";
  const isCompDiff = name[16] === "C";
  if (name[17] !== "-") fail(name, 17, "bad separator after the flags");
  const rest = name.slice(18);
  const suffixAt = rest.indexOf(WDIFF_SUFFIX);
  if (suffixAt < 0) fail(name, 18, `no ${WDIFF_SUFFIX} suffix`);
  const pieces = rest.slice(0, suffixAt).split("-");
  if (pieces.length !== 2 && pieces.length < 4) {
    fail(name, 18, `bad number of gids ${pieces.length}`);
  }
  const gids: bigint[] = [];
  let offset = 18;
  for (const piece of pieces.slice(0, 4)) {
    if (!/^[0-9]+$/.test(piece)) fail(name, offset, `bad gid "${piece}"`);
    const gid = BigInt(piece);
    if (gid > GID_NONE) fail(name, offset, `gid ${piece} is over 2^64-1`);
    gids.push(gid);
    offset += piece.length + 1;
  }
  let snapB: MetaSnap;
  let snapE: MetaSnap;
  if (gids.length === 2) {
    snapB = { gidB: gids[0]!, gidE: gids[0]! };
    snapE = { gidB: gids[1]!, gidE: gids[1]! };
  } else {
    snapB = { gidB: gids[0]!, gidE: gids[1]! };
    snapE = { gidB: gids[2]!, gidE: gids[3]! };
  }
  const problem = metaDiffProblem(snapB, snapE);
  if (problem !== null) fail(name, 18, problem);
  return { isMergeable, isCompDiff, timestamp, snapB, snapE, dataSize: 0 };
}

/** True if a directory entry is considered a wdiff (regular files only; checked by the caller). */
export function hasWdiffSuffix(name: string): boolean {
  return name.endsWith(WDIFF_SUFFIX);
}
