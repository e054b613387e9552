/**
 * Loading volumes at startup and crash recovery (protocol-and-servers.md §2.4.8,
 * wdiff-and-archive.md §13.5): delete `wr_*_tmp` images; per volume directory load state,
 * uuids, base and the wdiff set; finish an interrupted cold→base switch; require the base
 * image for active volumes; for Archived volumes garbage-collect wdiffs off the applicable
 * chain and `tmpXXXXXX` files.
 *
 * @module
 */
import { baseImageName, coldImageName, parseImageName } from "../../archive-backend/mod.ts";
import { MetaDiffManager, metaSnap, metaState } from "../../format/meta/mod.ts";
import { ACTIVE_STATES, AS } from "./constants.ts";
import { removeDiffFiles } from "./operations.ts";
import type { ArchiveContext, ArchiveVolume } from "./volume.ts";

/** A volume that cannot be loaded: the server must not start (exit 1). */
export class VolumeLoadError extends Error {
  constructor(volId: string, detail: string, options?: ErrorOptions) {
    super(`Cannot load archive volume ${volId}: ${detail}`, options);
    this.name = "VolumeLoadError";
  }
}

/** Loads one volume's persisted metadata into memory. */
export async function loadVolume(
  context: ArchiveContext,
  volume: ArchiveVolume,
  options: { checkState: boolean },
): Promise<void> {
  const volId = volume.volId;
  const store = context.store;
  const state = await store.readState(volId);
  if (options.checkState && volume.state.state !== AS.clear && volume.state.state !== state) {
    throw new VolumeLoadError(volId, `state ${volume.state.state} differs from ${state}`);
  }
  volume.uuid = await store.readUuid(volId);
  volume.archiveUuid = await store.readArchiveUuid(volId);
  volume.base = await store.readBase(volId);
  const scanned = await store.scanDiffs(volId);
  for (const name of scanned.badNames) {
    context.runtime.log("WARNING", `loadVolume:bad wdiff file name:${volId}:${name}`);
  }
  volume.diffs = new MetaDiffManager(scanned.diffs);
  if (!volume.state.inTransaction) volume.state.set(state);
}

/**
 * Startup: removes temporary restore images, loads every volume directory and recovers it.
 *
 * @throws {VolumeLoadError} (or the underlying error) when a volume cannot be loaded
 */
export async function recoverAtStartup(context: ArchiveContext): Promise<void> {
  const images = await context.backend.list();
  for (const image of images) {
    if (parseImageName(image.name)?.kind === "restoredTmp") {
      await context.backend.remove(image.name);
      context.runtime.log("INFO", `removed temporary restore image:${image.name}`);
    }
  }
  for (const volId of await context.store.listVolumes()) {
    const volume = context.volume(volId);
    try {
      await loadVolume(context, volume, { checkState: false });
      await recoverVolume(context, volume, images.map((i) => i.name));
    } catch (error) {
      if (error instanceof VolumeLoadError) throw error;
      throw new VolumeLoadError(volId, error instanceof Error ? error.message : String(error), {
        cause: error,
      });
    }
  }
}

async function recoverVolume(
  context: ArchiveContext,
  volume: ArchiveVolume,
  imageNames: readonly string[],
): Promise<void> {
  const volId = volume.volId;
  const state = volume.state.state;
  if (state !== AS.archived && state !== AS.stopped) return;
  const backend = context.backend;
  const base = baseImageName(volId);
  for (const name of imageNames) {
    const parsed = parseImageName(name);
    if (parsed?.kind !== "baseTmp" || parsed.volId !== volId || parsed.gid === undefined) continue;
    const gid = parsed.gid;
    const coldFile = `${gid}.cold`;
    if (await backend.exists(base)) {
      if (gid <= volume.base.snapB.gidB) {
        await backend.remove(name);
        await context.store.removeFile(volId, coldFile).catch(() => {});
      } else {
        await backend.rename(name, coldImageName(volId, gid));
      }
    } else {
      const cold = metaState(metaSnap(gid), volume.base.timestamp);
      await context.store.writeBase(volId, cold);
      volume.base = cold;
      await backend.rename(name, base);
      await context.store.removeFile(volId, coldFile).catch(() => {});
      const erased = volume.diffs.eraseBeforeGid(gid);
      await removeDiffFiles(context, volume, erased);
    }
  }
  if (ACTIVE_STATES.includes(state) || state === AS.stopped) {
    if (!(await backend.exists(base))) throw new VolumeLoadError(volId, "base image not found");
  }
  if (state !== AS.archived) return;
  const garbage = volume.diffs.gc(volume.base.snapB);
  await removeDiffFiles(context, volume, garbage);
  if (garbage.length > 0) {
    context.runtime.log("INFO", `garbage collected wdiff files:${volId}:${garbage.length}`);
  }
  const temps = await context.store.tempFiles(volId);
  for (const name of temps) await context.store.removeFile(volId, name);
  if (temps.length > 0) {
    context.runtime.log("INFO", `garbage collected tmp files:${volId}:${temps.length}`);
  }
}
