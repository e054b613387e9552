/**
 * MetaState: the snapshot an archive's base image represents, or the apply in progress
 * (wdiff-and-archive.md §8.3, §8.5 "States", §12).
 *
 * @module
 */
import { assert, CorruptDataError, toSafeNumber } from "../../errors.ts";
import type { SerialReader } from "../serializer/reader.ts";
import type { SerialWriter } from "../serializer/writer.ts";
import type { MetaDiff } from "./meta_diff.ts";
import { applyDiffList, canApply, canApplyList } from "./meta_rules.ts";
import {
  formatMetaSnap,
  type MetaSnap,
  readMetaSnap,
  SNAP_NONE,
  snapEquals,
  writeMetaSnap,
} from "./meta_snap.ts";
import { formatTimestampCompact } from "./timestamp.ts";

/** Preamble of a serialized MetaState. */
export const META_STATE_PREAMBLE = 0x0313;

/** Base state of an archive volume. */
export interface MetaState {
  /** An apply is in progress (from snapB towards snapE). */
  readonly isApplying: boolean;
  /** Unix seconds of snapB (of the target when applying). */
  readonly timestamp: number;
  /** The snapshot the base image holds (the apply's begin when applying). */
  readonly snapB: MetaSnap;
  /** Meaningful only when applying; otherwise equal to snapB as the original writes it. */
  readonly snapE: MetaSnap;
  /** In memory only (never serialized): an explicit snapshot, for restorable listings. */
  readonly isExplicit: boolean;
}

/** The state written at volume init: not applying, timestamp 0, both snapshots "none". */
export const DEFAULT_META_STATE: MetaState = {
  isApplying: false,
  timestamp: 0,
  snapB: SNAP_NONE,
  snapE: SNAP_NONE,
  isExplicit: false,
};

/**
 * A settled state `<snap>`.
 *
 * @example
 * ```ts
 * import { formatMetaState, metaState } from "./meta_state.ts";
 * import { metaSnap } from "./meta_snap.ts";
 * const st = metaState(metaSnap(0n, 100n), 1388631845);
 * if (formatMetaState(st, { withTimestamp: true }) !== "<|0,100|>-20140102030405") throw new Error();
 * ```
 */
export function metaState(snap: MetaSnap, timestamp: number, isExplicit = false): MetaState {
  assert(Number.isSafeInteger(timestamp) && timestamp >= 0, "timestamp is a safe integer >= 0");
  return { isApplying: false, timestamp, snapB: snap, snapE: snap, isExplicit };
}

/** An applying state `<snapB-->snapE>` (asserts snapB.gidB < snapE.gidB). */
export function applyingState(snapB: MetaSnap, snapE: MetaSnap, timestamp: number): MetaState {
  assert(snapB.gidB < snapE.gidB, "applying state: snapB.gidB < snapE.gidB");
  assert(Number.isSafeInteger(timestamp) && timestamp >= 0, "timestamp is a safe integer >= 0");
  return { isApplying: true, timestamp, snapB, snapE, isExplicit: false };
}

/** Equality as the original defines it: ignores timestamp, isExplicit and (when not applying) snapE. */
export function stateEquals(a: MetaState, b: MetaState): boolean {
  if (a.isApplying !== b.isApplying || !snapEquals(a.snapB, b.snapB)) return false;
  return !a.isApplying || snapEquals(a.snapE, b.snapE);
}

/** `<|B|>`, `<|B,E|>` or `<|B|-->|E|>`; with `withTimestamp`, `-YYYYMMDDhhmmss` appended. */
export function formatMetaState(state: MetaState, init: { withTimestamp?: boolean } = {}): string {
  const body = state.isApplying
    ? `${formatMetaSnap(state.snapB)}-->${formatMetaSnap(state.snapE)}`
    : formatMetaSnap(state.snapB);
  const suffix = init.withTimestamp ? `-${formatTimestampCompact(state.timestamp)}` : "";
  return `<${body}>${suffix}`;
}

/** True if `diff` can be applied to the state (an apply in progress must not go backwards). */
export function canApplyToState(state: MetaState, diff: MetaDiff): boolean {
  return canApply(state.snapB, diff) && (!state.isApplying || state.snapE.gidB <= diff.snapE.gidB);
}

/** True if `diffs` chain-apply from snapB and, when applying, reach at least snapE.gidB. */
export function canApplyListToState(state: MetaState, diffs: readonly MetaDiff[]): boolean {
  if (!canApplyList(state.snapB, diffs)) return false;
  return !state.isApplying || applyDiffList(state.snapB, diffs).gidB >= state.snapE.gidB;
}

/** The applying state `<snapB --> apply(snapB, diffs)>` with the last diff's timestamp. */
export function beginApplying(state: MetaState, diffs: readonly MetaDiff[]): MetaState {
  assert(diffs.length > 0, "beginApplying needs diffs");
  assert(canApplyListToState(state, diffs), "beginApplying needs applicable diffs");
  const target = applyDiffList(state.snapB, diffs);
  return applyingState(state.snapB, target, diffs[diffs.length - 1]!.timestamp);
}

/** The settled state `<apply(snapB, diffs)>` with the last diff's timestamp. */
export function endApplying(state: MetaState, diffs: readonly MetaDiff[]): MetaState {
  assert(diffs.length > 0, "endApplying needs diffs");
  assert(canApplyListToState(state, diffs), "endApplying needs applicable diffs");
  return metaState(applyDiffList(state.snapB, diffs), diffs[diffs.length - 1]!.timestamp);
}

/** {@link endApplying}; an empty list leaves the state unchanged. */
export function applyToState(state: MetaState, diffs: readonly MetaDiff[]): MetaState {
  return diffs.length === 0 ? state : endApplying(state, diffs);
}

/** Serializes: preamble 0x0313, isApplying, timestamp, snapB, snapE (isExplicit is not). */
export function writeMetaState(writer: SerialWriter, state: MetaState): void {
  writer.u16(META_STATE_PREAMBLE).bool(state.isApplying).u64(BigInt(state.timestamp));
  writeMetaSnap(writer, state.snapB);
  writeMetaSnap(writer, state.snapE);
}

/**
 * Reads a MetaState and checks the applying invariant.
 *
 * @throws {CorruptDataError} on bad bytes or an applying state with snapB.gidB ≥ snapE.gidB
 * @throws {LimitExceededError} when the timestamp is past 2^53 - 1
 */
export function readMetaState(reader: SerialReader): MetaState {
  const offset = reader.offset;
  reader.preamble(META_STATE_PREAMBLE, "MetaState");
  const isApplying = reader.bool("MetaState isApplying");
  const timestamp = toSafeNumber(reader.u64("MetaState timestamp"), "MetaState timestamp");
  const snapB = readMetaSnap(reader);
  const snapE = readMetaSnap(reader);
  if (isApplying && snapB.gidB >= snapE.gidB) {
    throw new CorruptDataError(
      "MetaState",
      offset,
      `applying from gid ${snapB.gidB} to gid ${snapE.gidB}, not forwards`,
    );
  }
  return { isApplying, timestamp, snapB, snapE, isExplicit: false };
}
