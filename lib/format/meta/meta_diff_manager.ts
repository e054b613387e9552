/**
 * MetaDiffManager: the set of MetaDiffs of one directory and the diff selection algorithms
 * of wdiff-and-archive.md §9 (applicable, mergeable, restorable, gc).
 *
 * Diffs are kept ordered by snapB.gidB, then by insertion, which is the enumeration order
 * the max-progress tie break follows (the original's multimap).
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { diffEquals, type MetaDiff } from "./meta_diff.ts";
import { applyDiff, canApply, canMerge, maxProgressDiff, mergeDiff } from "./meta_rules.ts";
import { isCleanSnap, type MetaSnap } from "./meta_snap.ts";
import { applyToState, type MetaState, metaState } from "./meta_state.ts";
import { formatTimestampListing } from "./timestamp.ts";

/** Predicate of the applicable list: `diff` was applied, reaching `snap`; false stops before it. */
export type ApplicablePredicate = (diff: MetaDiff, snap: MetaSnap) => boolean;

/** Predicate of the mergeable list: `diff` would be merged onto `merged`; false stops. */
export type MergeablePredicate = (diff: MetaDiff, merged: MetaDiff) => boolean;

/** No diff can make progress where one is needed (a gap in the diffs). */
export class NoApplicableDiffError extends Error {
  /**
   * Raised by the selection algorithms when the diffs on disk have a gap, so an archive cannot
   * reach a clean snapshot; kept apart from corrupt-data errors because the files are fine.
   *
   * @param message the gid where progress stopped
   * @example
   * ```ts
   * import { NoApplicableDiffError } from "./meta_diff_manager.ts";
   * if (new NoApplicableDiffError("gap at gid 5").name !== "NoApplicableDiffError") {
   *   throw new Error("wrong");
   * }
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "NoApplicableDiffError";
  }
}

/** A diff whose isMergeable flag changed: the archive renames its file. */
export interface ChangedDiff {
  /** The diff as it was (its current file name). */
  readonly before: MetaDiff;
  /** The same diff with the new flag (its new file name). */
  readonly after: MetaDiff;
}

/** Manager of the MetaDiffs of one volume directory. */
export class MetaDiffManager {
  #diffs: MetaDiff[] = [];

  /**
   * Starts with `diffs`, added one by one (see {@link add}) so their order follows the
   * index order whatever order the directory scan returned them in.
   *
   * @param diffs initial diffs (e.g. from a directory scan)
   * @throws {Error} when two diffs have the same snapB and snapE
   * @example
   * ```ts
   * import { MetaDiffManager } from "./meta_diff_manager.ts";
   * if (new MetaDiffManager().size !== 0) throw new Error("wrong");
   * ```
   */
  constructor(diffs: Iterable<MetaDiff> = []) {
    for (const diff of diffs) this.add(diff);
  }

  /** Number of diffs. */
  get size(): number {
    return this.#diffs.length;
  }

  /** Every diff, in index order. */
  all(): MetaDiff[] {
    return [...this.#diffs];
  }

  /** True if a diff with the same snapB and snapE is present. */
  has(diff: MetaDiff): boolean {
    return this.#diffs.some((d) => diffEquals(d, diff));
  }

  /**
   * Adds `diff`.
   *
   * @throws {Error} when an equal diff (same snapB and snapE) is already present
   */
  add(diff: MetaDiff): void {
    if (this.has(diff)) throw new Error(`MetaDiffManager: the diff already exists`);
    let index = this.#diffs.length;
    while (index > 0 && this.#diffs[index - 1]!.snapB.gidB > diff.snapB.gidB) index--;
    this.#diffs.splice(index, 0, diff);
  }

  /** Removes the diff equal to `diff`; returns false if there was none. */
  remove(diff: MetaDiff): boolean {
    const index = this.#diffs.findIndex((d) => diffEquals(d, diff));
    if (index < 0) return false;
    this.#diffs.splice(index, 1);
    return true;
  }

  /** Removes every diff. */
  clear(): void {
    this.#diffs = [];
  }

  #removeWhere(garbage: (diff: MetaDiff) => boolean): MetaDiff[] {
    const removed = this.#diffs.filter(garbage);
    this.#diffs = this.#diffs.filter((d) => !garbage(d));
    return removed;
  }

  /** Diffs with snapB.gidB ≤ gid < snapE.gidB. */
  covering(gid: bigint): MetaDiff[] {
    const out: MetaDiff[] = [];
    for (const diff of this.#diffs) {
      if (diff.snapB.gidB > gid) break;
      if (gid < diff.snapE.gidB) out.push(diff);
    }
    return out;
  }

  /** Diffs covering snap.gidB that can be applied to `snap`. */
  applicableCandidates(snap: MetaSnap): MetaDiff[] {
    return this.covering(snap.gidB).filter((d) => canApply(snap, d));
  }

  /**
   * Repeatedly applies the max-progress applicable diff, starting from `snap`, while
   * `predicate(diff, snapAfter)` holds.
   */
  applicableList(snap: MetaSnap, predicate: ApplicablePredicate = () => true): MetaDiff[] {
    const out: MetaDiff[] = [];
    let current = snap;
    for (;;) {
      const diff = maxProgressDiff(this.applicableCandidates(current));
      if (diff === undefined) break;
      const next = applyDiff(current, diff);
      assert(next.gidB > current.gidB, "applying a diff makes progress");
      if (!predicate(diff, next)) break;
      current = next;
      out.push(diff);
    }
    return out;
  }

  /** Every diff whose snapB.gidB is the smallest one ≥ `gid`. */
  firstDiffs(gid: bigint): MetaDiff[] {
    const first = this.#diffs.find((d) => d.snapB.gidB >= gid);
    if (first === undefined) return [];
    return this.#diffs.filter((d) => d.snapB.gidB === first.snapB.gidB);
  }

  /**
   * The mergeable list from `gid`: the max-progress first diff, then repeatedly the
   * max-progress diff mergeable onto the running merge while `predicate` holds.
   */
  mergeableList(gid: bigint, predicate: MergeablePredicate = () => true): MetaDiff[] {
    const first = maxProgressDiff(this.firstDiffs(gid));
    if (first === undefined) return [];
    const out = [first];
    let merged = first;
    for (;;) {
      const running = merged;
      const candidates = this.covering(running.snapE.gidB).filter((d) =>
        !diffEquals(d, running) && canMerge(running, d)
      );
      const diff = maxProgressDiff(candidates);
      if (diff === undefined || !predicate(diff, running)) break;
      merged = mergeDiff(running, diff);
      out.push(diff);
    }
    return out;
  }

  /** The applicable list from `snap`, cut where a diff cannot be merged onto the running merge. */
  applicableAndMergeableList(snap: MetaSnap): MetaDiff[] {
    const applicable = this.applicableList(snap);
    if (applicable.length === 0) return [];
    const out = [applicable[0]!];
    let merged = applicable[0]!;
    for (const diff of applicable.slice(1)) {
      if (!canMerge(merged, diff)) break;
      merged = mergeDiff(merged, diff);
      out.push(diff);
    }
    return out;
  }

  /** Diffs needed to finish an apply in progress (empty when not applying). */
  minimumApplicableList(state: MetaState): MetaDiff[] {
    if (!state.isApplying) return [];
    return this.applicableList(state.snapB, (_, snap) => snap.gidB <= state.snapE.gidB);
  }

  /** The snapshot reached by applying every applicable diff. */
  latestSnapshot(state: MetaState): MetaSnap {
    let snap = state.snapB;
    for (const diff of this.applicableList(state.snapB)) snap = applyDiff(snap, diff);
    return snap;
  }

  /** The state reached by applying every applicable diff (the state itself if none). */
  latestState(state: MetaState): MetaState {
    const diffs = this.applicableList(state.snapB);
    return diffs.length === 0
      ? state
      : applyToState(metaState(state.snapB, state.timestamp), diffs);
  }

  /**
   * The oldest clean state: finish the apply in progress, then apply max-progress diffs
   * while the snapshot is dirty.
   *
   * @throws {NoApplicableDiffError} when the state stays dirty and no diff applies
   */
  oldestCleanState(state: MetaState): MetaState {
    let current = this.#settle(state, this.minimumApplicableList(state));
    while (!isCleanSnap(current.snapB)) {
      const diff = maxProgressDiff(this.applicableCandidates(current.snapB));
      if (diff === undefined) {
        throw new NoApplicableDiffError(
          `no diff makes the dirty snapshot clean from gid ${current.snapB.gidB}`,
        );
      }
      current = applyToState(current, [diff]);
    }
    return current;
  }

  /** The state after `diffs` (a settled state even if `state` was applying). */
  #settle(state: MetaState, diffs: readonly MetaDiff[]): MetaState {
    if (diffs.length === 0) return state;
    return applyToState(metaState(state.snapB, state.timestamp), diffs);
  }

  /**
   * The diffs that bring `state` exactly to `gid` (clean if `mustBeClean`), or null when
   * that snapshot cannot be materialized.
   */
  materialize(state: MetaState, gid: bigint, mustBeClean: boolean): MetaDiff[] | null {
    const out = this.applicableList(state.snapB, (_, snap) => snap.gidB <= gid);
    if (this.minimumApplicableList(state).length > out.length) return null;
    let snap = state.snapB;
    for (const diff of out) snap = applyDiff(snap, diff);
    if (snap.gidB !== gid) return null;
    if (mustBeClean && !isCleanSnap(snap)) return null;
    return out;
  }

  /** Diffs to restore the clean snapshot `gid` (null if impossible), cut to `maxOpenDiffs` (0: no cut). */
  diffsToRestore(state: MetaState, gid: bigint, maxOpenDiffs = 0): MetaDiff[] | null {
    const out = this.materialize(state, gid, true);
    if (out === null || maxOpenDiffs <= 0) return out;
    return out.slice(0, maxOpenDiffs);
  }

  /** Diffs to scan the virtual image at `gid`; null if impossible or longer than `limit` (0: none). */
  diffsToScan(state: MetaState, gid: bigint, limit = 0): MetaDiff[] | null {
    const out = this.materialize(state, gid, false);
    if (out === null || (limit > 0 && out.length > limit)) return null;
    return out;
  }

  /** Diffs to apply up to `gid`, cut to `maxOpenDiffs` (0: no cut), never shorter than the minimum. */
  diffsToApply(state: MetaState, gid: bigint, maxOpenDiffs = 0): MetaDiff[] {
    let out = this.applicableList(state.snapB, (_, snap) => snap.gidB <= gid);
    if (maxOpenDiffs > 0) out = out.slice(0, maxOpenDiffs);
    const minimum = this.minimumApplicableList(state);
    return minimum.length > out.length ? minimum : out;
  }

  /** Keeps only the applicable list from `snap`; removes and returns the rest (garbage). */
  gc(snap: MetaSnap): MetaDiff[] {
    const keep = this.applicableList(snap);
    return this.#removeWhere((d) => !keep.includes(d));
  }

  /** Removes and returns diffs within [gidB, gidE] except one exactly `gidB → gidE`. */
  gcRange(gidB: bigint, gidE: bigint): MetaDiff[] {
    return this.#removeWhere((d) =>
      gidB <= d.snapB.gidB && d.snapE.gidB <= gidE &&
      !(d.snapB.gidB === gidB && d.snapE.gidB === gidE)
    );
  }

  /** Removes and returns diffs with snapB.gidB < gid and snapE.gidB ≤ gid. */
  eraseBeforeGid(gid: bigint): MetaDiff[] {
    return this.#removeWhere((d) => d.snapB.gidB < gid && d.snapE.gidB <= gid);
  }

  /**
   * Marks the snapshot at `gid` explicit (`enable`: diffs beginning there become
   * non-mergeable) or implicit (mergeable). Returns the changed diffs.
   */
  changeSnapshot(gid: bigint, enable: boolean): ChangedDiff[] {
    const changed: ChangedDiff[] = [];
    this.#diffs = this.#diffs.map((before) => {
      if (before.snapB.gidB !== gid || before.isMergeable === !enable) return before;
      const after = { ...before, isMergeable: !enable };
      changed.push({ before, after });
      return after;
    });
    return changed;
  }

  /**
   * Restorable snapshots (`list-restorable`): the clean states reachable from `base`, each
   * with isExplicit set; implicit ones only with `all`.
   */
  restorableList(base: MetaState, init: { all?: boolean } = {}): MetaState[] {
    const applicable = this.applicableList(base.snapB);
    const minimum = this.minimumApplicableList(base);
    assert(
      minimum.length <= applicable.length,
      "the minimum list is a prefix of the applicable list",
    );
    let state = this.#settle(base, minimum);
    const out: MetaState[] = [];
    if (isCleanSnap(state.snapB)) out.push({ ...state, isExplicit: false });
    for (let i = minimum.length; i < applicable.length; i++) {
      state = applyToState(state, [applicable[i]!]);
      const next = applicable[i + 1];
      const isExplicit = next === undefined || !next.isMergeable;
      if (isCleanSnap(state.snapB) && (isExplicit || init.all)) out.push({ ...state, isExplicit });
    }
    return out;
  }
}

/** Keeps the first diff, then following ones while the running Σ dataSize stays ≤ `sizeMax`. */
export function truncateBySize(diffs: readonly MetaDiff[], sizeMax: number): MetaDiff[] {
  if (diffs.length === 0) return [];
  const out = [diffs[0]!];
  let total = diffs[0]!.dataSize;
  for (const diff of diffs.slice(1)) {
    total += diff.dataSize;
    if (total > sizeMax) break;
    out.push(diff);
  }
  return out;
}

/** One restorable line: `<gid> <YYYY-MM-DDTHH:MM:SS or ---> <1|0>`. */
export function formatRestorableLine(state: MetaState): string {
  return `${state.snapB.gidB} ${formatTimestampListing(state.timestamp)} ${
    state.isExplicit ? 1 : 0
  }`;
}
