/**
 * The driver's lsid set (device-and-wlog.md §5.1) as the engine keeps it, and its invariant
 * chain `oldest ≤ prev_written ≤ written ≤ permanent ≤ flush ≤ completed ≤ latest`.
 *
 * @module
 */
import { assert } from "../../errors.ts";
import type { LsidSet } from "../kernel/sysfs.ts";

export type { LsidSet };

/** The seven lsids, all mutable (the engine's working copy). */
export type MutableLsidSet = Required<Omit<LsidSet, "submitted">>;

/** All seven lsids set to `lsid` (after format, reset-wal or redo). */
export function uniformLsids(lsid: bigint, oldest = lsid): MutableLsidSet {
  return {
    latest: lsid,
    completed: lsid,
    flush: lsid,
    permanent: lsid,
    written: lsid,
    prevWritten: lsid,
    oldest,
  };
}

/**
 * Asserts the invariant chain: a violation is a bug of the engine.
 *
 * @example
 * ```ts
 * import { checkLsidInvariants, uniformLsids } from "./lsid_state.ts";
 * checkLsidInvariants(uniformLsids(5n, 0n));
 * ```
 */
export function checkLsidInvariants(lsids: LsidSet): void {
  assert(lsids.oldest <= lsids.prevWritten, "oldest <= prev_written");
  assert(lsids.prevWritten <= lsids.written, "prev_written <= written");
  assert(lsids.written <= lsids.permanent, "written <= permanent");
  assert(lsids.permanent <= lsids.flush, "permanent <= flush");
  assert(lsids.flush <= lsids.completed, "flush <= completed");
  assert(lsids.completed <= lsids.latest, "completed <= latest");
}
