/**
 * Apply and merge (controller-api.md §4.2, §4.3) with their checks and waits.
 *
 * @module
 */
import { ControllerError } from "./errors.ts";
import type { Controller } from "./controller.ts";
import type { ServerParams } from "./layout.ts";
import { TIMEOUT_MS } from "./states.ts";

/**
 * Applies every diff older than `gid` to the base image and waits (§4.2).
 *
 * @throws {ControllerError} when gid is not the end of an applicable diff, or the apply
 *   did not reach it
 */
export async function apply(
  ctl: Controller,
  ax: ServerParams,
  vol: string,
  gid: bigint,
  timeoutMs = TIMEOUT_MS,
): Promise<void> {
  const ends = (await ctl.getApplicableDiffList(ax, vol)).map((diff) => diff.snapE.gidB);
  if (!ends.includes(gid)) {
    throw new ControllerError(`${ax.name}:${vol}:gid is not restorable:${gid}`);
  }
  await ctl.call(ax, ["apply", vol, String(gid)], () => ctl.archiveClient(ax).apply(vol, gid));
  await waitForApplied(ctl, ax, vol, gid, timeoutMs);
}

/** Waits for the end of an apply up to `gid` and checks its result. */
export async function waitForApplied(
  ctl: Controller,
  ax: ServerParams,
  vol: string,
  gid: bigint,
  timeoutMs = TIMEOUT_MS,
): Promise<void> {
  await ctl.waitForNoAction(ax, vol, "Apply", timeoutMs);
  if ((await ctl.getBase(ax, vol)).isApplying) {
    throw new ControllerError(`${ax.name}:${vol}:apply did not finish:${gid}`);
  }
  const first = (await ctl.getRestorableGid(ax, vol))[0];
  if (first === undefined || first < gid) {
    throw new ControllerError(`${ax.name}:${vol}:apply failed:${gid}:first restorable ${first}`);
  }
}

/**
 * Merges the diffs of [gidB, gidE] into one and waits (§4.3).
 *
 * @throws {ControllerError} for inexact ranges or unmergeable diffs, or when the merged
 *   diff does not exist afterwards
 */
export async function merge(
  ctl: Controller,
  ax: ServerParams,
  vol: string,
  gidB: bigint,
  gidE: bigint,
  timeoutMs = TIMEOUT_MS,
): Promise<void> {
  if (gidB > gidE) throw new ControllerError(`merge:bad gid range:${gidB}:${gidE}`);
  const diffs = await ctl.getApplicableDiffList(ax, vol, gidE);
  if (
    !diffs.some((d) => d.snapB.gidB === gidB) || !diffs.some((d) => d.snapE.gidB === gidE)
  ) {
    throw new ControllerError(`${ax.name}:${vol}:merge:specify exact ranges:${gidB}:${gidE}`);
  }
  for (const diff of diffs) {
    if (diff.snapB.gidB >= gidE) break;
    if (diff.snapB.gidB < gidB) continue;
    const range = `${diff.snapB.gidB}-${diff.snapE.gidB}`;
    if (diff.isCompDiff) throw new ControllerError(`${ax.name}:${vol}:merge:comp diff:${range}`);
    if (diff.snapB.gidB !== gidB && !diff.isMergeable) {
      throw new ControllerError(`${ax.name}:${vol}:merge:not mergeable:${range}`);
    }
  }
  await ctl.call(
    ax,
    ["merge", vol, String(gidB), "gid", String(gidE)],
    () => ctl.archiveClient(ax).merge(vol, gidB, gidE),
  );
  await waitForMerged(ctl, ax, vol, gidB, gidE, timeoutMs);
}

/** Waits for the end of a merge and requires the diff |gidB|→|gidE|. */
export async function waitForMerged(
  ctl: Controller,
  ax: ServerParams,
  vol: string,
  gidB: bigint,
  gidE: bigint,
  timeoutMs = TIMEOUT_MS,
): Promise<void> {
  await ctl.waitForNoAction(ax, vol, "Merge", timeoutMs);
  if (!(await ctl.existsDiff(ax, vol, gidB, gidE))) {
    throw new ControllerError(`${ax.name}:${vol}:merge failed:${gidB}:${gidE}`);
  }
}
