/**
 * Backup, snapshot and restore (controller-api.md §3.3–3.12) as functions of a
 * {@link Controller}.
 *
 * @module
 */
import { AssertionError } from "../errors.ts";
import { ControllerError } from "./errors.ts";
import type { Controller } from "./controller.ts";
import { verifyKind } from "./controller.ts";
import type { ServerParams } from "./layout.ts";
import { kickProxy, reset, stop } from "./operations_basic.ts";
import { isSynchronizing, startSynchronizing, stopSynchronizing } from "./operations_sync.ts";
import { A_ACTIVE, S_DURING_FULL_SYNC, SHORT_TIMEOUT_MS, TIMEOUT_MS } from "./states.ts";
import type { SyncOpt } from "./values.ts";
import { pollUntil } from "./wait.ts";

/** Attempts of {@link delRestored}. */
const DEL_RESTORED_ATTEMPTS_MAX = 3;
/** Pause between them. */
const DEL_RESTORED_RETRY_MS = 1000;

/** The shared first half of full and hash backup (§3.3). */
export async function prepareBackup(
  ctl: Controller,
  sx: ServerParams,
  vol: string,
  syncOpt?: SyncOpt,
): Promise<void> {
  verifyKind(sx, ["storage"]);
  const state = await ctl.getState(sx, vol);
  if (state === "Standby") await stop(ctl, sx, vol);
  else if (state === "Stopped") await reset(ctl, sx, vol);
  else if (state !== "SyncReady") {
    throw new ControllerError(`${sx.name}:${vol}:bad state, call stop if target:${state}`);
  }
  for (const other of ctl.layout.storageL) {
    if (other.name === sx.name) continue;
    const otherState = await ctl.getState(other, vol);
    if (otherState !== "Standby" && otherState !== "Clear") {
      throw new ControllerError(`${other.name}:${vol}:another storage is ${otherState}`);
    }
  }
  for (const ax of ctl.layout.archiveL) {
    if (await isSynchronizing(ctl, ax, vol)) await stopSynchronizing(ctl, ax, vol);
  }
  const primary = ctl.layout.getPrimaryArchive();
  if ((await ctl.getState(primary, vol)) === "Clear") {
    await ctl.call(primary, ["init-vol", vol], () => ctl.archiveClient(primary).initVol(vol));
  }
  await startSynchronizing(ctl, primary, vol, syncOpt);
}

/** Options of {@link fullBackup}. */
export interface FullBackupOptions {
  /** Time allowed for each wait (default 1 day). */
  timeoutMs?: number;
  /** Wait for the first restorable gid (default true). */
  block?: boolean;
  /** Bulk size with unit sent to the storage. */
  bulkSizeU?: string;
  /** Archive-info options of the primary. */
  syncOpt?: SyncOpt;
}

/**
 * Full backup from storage `sx` to the primary archive (§3.4).
 *
 * @returns the first clean restorable gid, or undefined when not blocking
 */
export async function fullBackup(
  ctl: Controller,
  sx: ServerParams,
  vol: string,
  options: FullBackupOptions = {},
): Promise<bigint | undefined> {
  const timeoutMs = options.timeoutMs ?? TIMEOUT_MS;
  await prepareBackup(ctl, sx, vol, options.syncOpt);
  const params = options.bulkSizeU === undefined ? [vol] : [vol, options.bulkSizeU];
  await ctl.call(
    sx,
    ["full-bkp", ...params],
    () => ctl.storageClient(sx).fullBackup(vol, options.bulkSizeU),
  );
  if (options.block === false) return undefined;
  await ctl.waitForStateChange(sx, vol, S_DURING_FULL_SYNC, ["Target"], timeoutMs);
  const primary = ctl.layout.getPrimaryArchive();
  const archiveState = await ctl.getState(primary, vol);
  if (!A_ACTIVE.includes(archiveState)) {
    throw new ControllerError(`${primary.name}:${vol}:sync failed:${archiveState}`);
  }
  await kickProxy(ctl, vol, primary);
  const gids = await pollUntil(() => ctl.getRestorableGid(primary, vol), (g) => g.length > 0, {
    clock: ctl.clock,
    what: `${primary.name}:${vol}:a restorable snapshot`,
    timeoutMs,
    intervalMs: ctl.pollIntervalMs,
  });
  return gids.at(-1)!;
}

/** `snapshot VOL` on a storage: the new gid (§3.6). */
export function snapshotNbk(ctl: Controller, sx: ServerParams, vol: string): Promise<bigint> {
  return ctl.call(sx, ["snapshot", vol], () => ctl.storageClient(sx).snapshot(vol));
}

/** A snapshot, waited for on every archive of `archives` (§3.7). */
export async function snapshot(
  ctl: Controller,
  sx: ServerParams,
  vol: string,
  archives: readonly ServerParams[],
  timeoutMs = TIMEOUT_MS,
): Promise<bigint> {
  for (const ax of archives) {
    const state = await ctl.getState(ax, vol);
    if (!A_ACTIVE.includes(state)) {
      throw new ControllerError(`${ax.name}:${vol}:archive not active:${state}`);
    }
  }
  const gid = await snapshotNbk(ctl, sx, vol);
  const state = await ctl.getState(sx, vol);
  if (state !== "Target") {
    throw new ControllerError(`${sx.name}:${vol}:cannot wait for gid ${gid}:state ${state}`);
  }
  for (const ax of archives) await ctl.waitForRestorable(ax, vol, gid, timeoutMs);
  return gid;
}

/** Restores `gid` and waits until it is in the restored list (§3.10). */
export async function restore(
  ctl: Controller,
  ax: ServerParams,
  vol: string,
  gid: bigint,
  timeoutMs = TIMEOUT_MS,
): Promise<void> {
  if ((await ctl.getRestored(ax, vol)).includes(gid)) {
    throw new ControllerError(`${ax.name}:${vol}:already restored:${gid}`);
  }
  await ctl.call(ax, ["restore", vol, String(gid)], () => ctl.archiveClient(ax).restore(vol, gid));
  await ctl.waitForNoAction(ax, vol, "Restore", timeoutMs);
  if (!(await ctl.getRestored(ax, vol)).includes(gid)) {
    throw new ControllerError(`${ax.name}:${vol}:restore failed:${gid}`);
  }
}

/**
 * Deletes a restored volume (3 attempts, 1 s apart, each failure reported), then waits
 * until it has left the restored list (§3.12).
 */
export async function delRestored(
  ctl: Controller,
  ax: ServerParams,
  vol: string,
  gid: bigint,
): Promise<void> {
  for (let attempt = 1;; attempt++) {
    if (attempt > 1 && !(await ctl.getRestored(ax, vol)).includes(gid)) break;
    try {
      await ctl.call(
        ax,
        ["del-restored", vol, String(gid)],
        () => ctl.archiveClient(ax).delRestored(vol, gid),
      );
      break;
    } catch (error) {
      if (error instanceof AssertionError || !(error instanceof Error)) throw error;
      ctl.report(`delRestored:attempt ${attempt}:${error.message}`);
      if (attempt >= DEL_RESTORED_ATTEMPTS_MAX) {
        throw new ControllerError(`${ax.name}:${vol}:del-restored exceeds max retry times`, {
          cause: error,
        });
      }
      await ctl.clock.sleep(DEL_RESTORED_RETRY_MS);
    }
  }
  await ctl.waitForNotGid(ax, vol, gid, "restored", SHORT_TIMEOUT_MS);
}
