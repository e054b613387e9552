/**
 * Rules on snapshots and diffs (wdiff-and-archive.md §8.5): relation, apply, merge,
 * contains and the max-progress choice. gid comparisons use gidB of each side.
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { isCleanDiff, type MetaDiff, metaDiff } from "./meta_diff.ts";
import { type MetaSnap, metaSnap } from "./meta_snap.ts";

/** How a diff relates to a snapshot. */
export type DiffRelation = "TOO_OLD" | "APPLICABLE" | "TOO_NEW" | "NOT_APPLICABLE";

/**
 * Relation of `diff` to `snap`: a compared diff applies only to exactly its begin gid; a
 * log diff is TOO_NEW if it begins after the snapshot, TOO_OLD if it ends at or before it.
 */
export function diffRelation(snap: MetaSnap, diff: MetaDiff): DiffRelation {
  if (diff.isCompDiff) return diff.snapB.gidB === snap.gidB ? "APPLICABLE" : "NOT_APPLICABLE";
  if (diff.snapB.gidB > snap.gidB) return "TOO_NEW";
  if (diff.snapE.gidB <= snap.gidB) return "TOO_OLD";
  return "APPLICABLE";
}

/**
 * True if `diff` can be applied to `snap` (re-applying blocks of a log diff that begins
 * before the snapshot is harmless).
 */
export function canApply(snap: MetaSnap, diff: MetaDiff): boolean {
  return diffRelation(snap, diff) === "APPLICABLE";
}

/**
 * The snapshot reached by applying `diff` to `snap` (requires {@link canApply}).
 *
 * @example
 * ```ts
 * import { applyDiff } from "./meta_rules.ts";
 * import { metaDiff } from "./meta_diff.ts";
 * import { formatMetaSnap, metaSnap } from "./meta_snap.ts";
 * const s = applyDiff(metaSnap(0n, 3n), metaDiff(metaSnap(0n), metaSnap(2n)));
 * if (formatMetaSnap(s) !== "|2,3|") throw new Error("wrong");
 * ```
 */
export function applyDiff(snap: MetaSnap, diff: MetaDiff): MetaSnap {
  assert(canApply(snap, diff), "apply needs an applicable diff");
  if (!isCleanDiff(diff)) return diff.snapE;
  const gid = diff.snapE.gidB;
  return metaSnap(gid, gid > snap.gidE ? gid : snap.gidE);
}

/** True if every diff of `diffs` applies in turn, starting from `snap`. */
export function canApplyList(snap: MetaSnap, diffs: readonly MetaDiff[]): boolean {
  let current = snap;
  for (const diff of diffs) {
    if (!canApply(current, diff)) return false;
    current = applyDiff(current, diff);
  }
  return true;
}

/** Applies `diffs` left to right (each must be applicable). */
export function applyDiffList(snap: MetaSnap, diffs: readonly MetaDiff[]): MetaSnap {
  let current = snap;
  for (const diff of diffs) current = applyDiff(current, diff);
  return current;
}

/**
 * True if `d1` can be merged onto `d0`: d1 mergeable, neither compared, and
 * `d0.snapB.gidB ≤ d1.snapB.gidB ≤ d0.snapE.gidB < d1.snapE.gidB`.
 */
export function canMerge(d0: MetaDiff, d1: MetaDiff): boolean {
  return d1.isMergeable && !d0.isCompDiff && !d1.isCompDiff &&
    d0.snapB.gidB <= d1.snapB.gidB && d1.snapB.gidB <= d0.snapE.gidB &&
    d0.snapE.gidB < d1.snapE.gidB;
}

/**
 * Merges `d1` onto `d0` (requires {@link canMerge}); d1's blocks win.
 *
 * @example
 * ```ts
 * import { mergeDiff } from "./meta_rules.ts";
 * import { formatMetaDiff, metaDiff } from "./meta_diff.ts";
 * import { metaSnap } from "./meta_snap.ts";
 * const d0 = metaDiff(metaSnap(0n), metaSnap(2n, 5n));
 * const d1 = metaDiff(metaSnap(2n), metaSnap(3n), { isMergeable: true });
 * if (formatMetaDiff(mergeDiff(d0, d1)) !== "|0|-->|3,5|") throw new Error("wrong");
 * ```
 */
export function mergeDiff(d0: MetaDiff, d1: MetaDiff): MetaDiff {
  assert(canMerge(d0, d1), "merge needs mergeable diffs");
  let snapE = d1.snapE;
  if (isCleanDiff(d1)) {
    const gid = d1.snapE.gidB;
    snapE = metaSnap(gid, gid > d0.snapE.gidE ? gid : d0.snapE.gidE);
  }
  return metaDiff(d0.snapB, snapE, {
    isMergeable: d0.isMergeable,
    isCompDiff: false,
    timestamp: d1.timestamp,
    dataSize: 0,
  });
}

/** True if `diffs` (non-empty) merge left to right. */
export function canMergeList(diffs: readonly MetaDiff[]): boolean {
  if (diffs.length === 0) return false;
  let merged = diffs[0]!;
  for (const diff of diffs.slice(1)) {
    if (!canMerge(merged, diff)) return false;
    merged = mergeDiff(merged, diff);
  }
  return true;
}

/** Merges `diffs` (non-empty) left to right; a single diff is returned as is. */
export function mergeDiffList(diffs: readonly MetaDiff[]): MetaDiff {
  assert(diffs.length > 0, "merging needs at least one diff");
  let merged = diffs[0]!;
  for (const diff of diffs.slice(1)) merged = mergeDiff(merged, diff);
  return merged;
}

/** True if `container` covers `diff` (diff is redundant). */
export function containsDiff(container: MetaDiff, diff: MetaDiff): boolean {
  return container.snapB.gidB <= diff.snapB.gidB && diff.snapE.gidB <= container.snapE.gidB;
}

/**
 * The max-progress choice: largest snapE.gidB, then larger snapB.gidB, then the first one.
 *
 * @returns the chosen diff, or undefined when `candidates` is empty
 */
export function maxProgressDiff(candidates: Iterable<MetaDiff>): MetaDiff | undefined {
  let best: MetaDiff | undefined;
  for (const diff of candidates) {
    if (
      best === undefined || diff.snapE.gidB > best.snapE.gidB ||
      (diff.snapE.gidB === best.snapE.gidB && diff.snapB.gidB > best.snapB.gidB)
    ) {
      best = diff;
    }
  }
  return best;
}
