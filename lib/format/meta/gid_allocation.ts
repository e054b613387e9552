/**
 * gid allocation on the storage side (wdiff-and-archive.md §10), as pure functions over the
 * done record and the snapshot queue (newest first).
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { type MetaDiff, metaDiff } from "./meta_diff.ts";
import { type MetaLsidGid, metaLsidGid } from "./meta_lsid_gid.ts";
import { metaSnap } from "./meta_snap.ts";

/**
 * The gid of a snapshot taken at `lsid` after record `previous` (the newest queued record,
 * or the done record if the queue is empty): `previous.gid + 1 + ⌊(lsid − previous.lsid) /
 * maxWlogSendPb⌋`, leaving room to split a big lsid range into several diffs.
 *
 * @example
 * ```ts
 * import { snapshotGid } from "./gid_allocation.ts";
 * import { metaLsidGid } from "./meta_lsid_gid.ts";
 * if (snapshotGid(metaLsidGid(100n, 7n), 350n, 100n) !== 10n) throw new Error("wrong");
 * ```
 */
export function snapshotGid(previous: MetaLsidGid, lsid: bigint, maxWlogSendPb: bigint): bigint {
  assert(maxWlogSendPb > 0n, "maxWlogSendPb is positive");
  assert(lsid >= previous.lsid, "snapshot lsid does not go backwards");
  return previous.gid + 1n + (lsid - previous.lsid) / maxWlogSendPb;
}

/** What {@link takeSnapshot} needs besides the records. */
export interface TakeSnapshotInit {
  /** lsid of the log at the snapshot (the storage's latest lsid when asked). */
  lsid: bigint;
  /** False for explicit (`walbc snapshot`), true for implicit snapshots. */
  isMergeable: boolean;
  /** Unix seconds now. */
  timestamp: number;
  /** Largest lsid range (pb) of one wlog transfer; spaces the gids (see {@link snapshotGid}). */
  maxWlogSendPb: bigint;
}

/** Takes a snapshot: returns the new queue (the new record at the front, newest first). */
export function takeSnapshot(
  done: MetaLsidGid,
  queue: readonly MetaLsidGid[],
  init: TakeSnapshotInit,
): MetaLsidGid[] {
  const previous = queue[0] ?? done;
  const gid = snapshotGid(previous, init.lsid, init.maxWlogSendPb);
  const record = metaLsidGid(init.lsid, gid, {
    isMergeable: init.isMergeable,
    timestamp: init.timestamp,
  });
  return [record, ...queue];
}

/** One wlog transfer: records, end lsid and the diff sent to the proxy. */
export interface TransferRange {
  /** Begin record: the done record; the transfer starts at its lsid. */
  readonly recB: MetaLsidGid;
  /** End record: the farthest queued record the range reaches or heads for. */
  readonly recE: MetaLsidGid;
  /** lsid where this transfer stops (≤ recE.lsid; smaller when maxWlogSendPb cuts it). */
  readonly lsidE: bigint;
  /** The MetaDiff the proxy receives for this range. */
  readonly diff: MetaDiff;
  /** True when the range reaches recE (lsidE == recE.lsid). */
  readonly isComplete: boolean;
}

/**
 * Chooses the next transfer range: from the done record to the oldest queued record,
 * extended over implicit records while within `maxWlogSendPb` and the permanent lsid.
 *
 * @param done the done record
 * @param queue queued records, newest first
 * @returns the range, or null when the queue is empty
 */
export function chooseTransferRange(
  done: MetaLsidGid,
  queue: readonly MetaLsidGid[],
  init: { maxWlogSendPb: bigint; permanentLsid: bigint },
): TransferRange | null {
  const oldestFirst = [...queue].reverse();
  const recB = done;
  let recE = oldestFirst[0];
  if (recE === undefined) return null;
  const lsidLimit = recB.lsid + init.maxWlogSendPb;
  for (const next of oldestFirst.slice(1)) {
    if (!recE.isMergeable || next.lsid > lsidLimit || next.lsid > init.permanentLsid) break;
    recE = next;
  }
  assert(recE.gid > recB.gid, "queued snapshots are newer than the done record");
  const lsidE = recE.gid === recB.gid + 1n
    ? recE.lsid
    : (lsidLimit < recE.lsid ? lsidLimit : recE.lsid);
  const isComplete = lsidE === recE.lsid;
  const diff = metaDiff(metaSnap(recB.gid), metaSnap(isComplete ? recE.gid : recB.gid + 1n), {
    isMergeable: recB.isMergeable,
    isCompDiff: false,
    timestamp: recE.timestamp,
  });
  return { recB, recE, lsidE, diff, isComplete };
}

/**
 * The records after a successful transfer: the new done record, and the queue without the
 * records at or before it.
 */
export function afterTransfer(
  queue: readonly MetaLsidGid[],
  range: TransferRange,
): { done: MetaLsidGid; queue: MetaLsidGid[] } {
  const done = metaLsidGid(range.lsidE, range.diff.snapE.gidB, {
    isMergeable: range.isComplete ? range.recE.isMergeable : true,
    timestamp: range.isComplete ? range.recE.timestamp : range.recB.timestamp,
  });
  return { done, queue: queue.filter((record) => record.gid > done.gid) };
}
