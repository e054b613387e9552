/**
 * Loading volumes at startup and the garbage collection that precedes every start
 * (protocol-and-servers.md §2.3.6, wdiff-and-archive.md §14): every subdirectory of the base
 * directory is a Stopped volume whose archives are its `*.archive` files and whose diff sets
 * are rebuilt from the `*.wdiff` names; unless `-stop`, each is started: wdiffs left in
 * `received/` are hard-linked into every `sendto/<archive>/` lacking them and removed,
 * temporaries are deleted, one send task per archive is queued.
 *
 * @module
 */
import { createDiffFileName, MetaDiffManager } from "../../format/meta/mod.ts";
import { PS } from "./constants.ts";
import type { ProxyContext, ProxyVolume } from "./volume.ts";

/** A volume that cannot be loaded or started at startup: the server must exit 1. */
export class ProxyVolumeLoadError extends Error {
  constructor(volId: string, detail: string, options?: ErrorOptions) {
    super(`Cannot load proxy volume ${volId}: ${detail}`, options);
    this.name = "ProxyVolumeLoadError";
  }
}

/** Loads one volume directory into memory as Stopped. */
export async function loadVolume(context: ProxyContext, volume: ProxyVolume): Promise<void> {
  const store = context.store;
  const volId = volume.volId;
  volume.reset();
  volume.sizeLb = await store.readSize(volId);
  for (const name of await store.listArchives(volId)) {
    volume.archives.set(name, await store.readArchiveInfo(volId, name));
  }
  const received = await store.scanDiffs(store.receivedDir(volId));
  warnBadNames(context, volId, received.badNames);
  volume.received = new MetaDiffManager(received.diffs);
  for (const name of volume.archiveNames()) {
    const pending = await store.scanDiffs(store.sendtoDir(volId, name));
    warnBadNames(context, volId, pending.badNames);
    volume.pending.set(name, new MetaDiffManager(pending.diffs));
  }
  if (!volume.state.inTransaction) volume.state.set(PS.stopped);
}

function warnBadNames(context: ProxyContext, volId: string, names: string[]): void {
  for (const name of names) {
    context.runtime.log("WARNING", `loadVolume:bad wdiff file name:${volId}:${name}`);
  }
}

/**
 * The garbage collection of a start: links every received wdiff into each archive's
 * `sendto/` (unless there), removes it from `received/`, deletes temporaries.
 *
 * @throws {Error} when `received/` still holds a wdiff afterwards
 */
export async function collectReceived(context: ProxyContext, volume: ProxyVolume): Promise<void> {
  const store = context.store;
  const fs = store.fs;
  const volId = volume.volId;
  await volume.locked(async () => {
    const receivedDir = store.receivedDir(volId);
    if (!(await fs.exists(receivedDir))) await fs.mkdir(receivedDir);
    for (const name of volume.archiveNames()) await store.ensureSendtoDir(volId, name);
    let collected = 0;
    for (const diff of volume.received.all()) {
      const fileName = createDiffFileName(diff);
      for (const name of volume.archiveNames()) {
        const target = `${store.sendtoDir(volId, name)}/${fileName}`;
        if (!(await fs.exists(target))) await fs.link(`${receivedDir}/${fileName}`, target);
        const pending = volume.pendingOf(name);
        if (!pending.has(diff)) pending.add(diff);
      }
      await fs.remove(`${receivedDir}/${fileName}`);
      volume.received.remove(diff);
      collected++;
    }
    const left = await store.scanDiffs(receivedDir);
    if (left.diffs.length > 0 || left.badNames.length > 0) {
      throw new Error(`received directory is not empty:${volId}`);
    }
    const temps = await store.tempFiles(receivedDir);
    for (const name of temps) await fs.remove(`${receivedDir}/${name}`);
    await fs.syncDir(receivedDir);
    if (collected > 0) {
      context.runtime.log("INFO", `garbage collected wdiff files:${volId}:${collected}`);
    }
    if (temps.length > 0) {
      context.runtime.log("INFO", `garbage collected tmp files:${volId}:${temps.length}`);
    }
  });
}

/** Queues one send task per archive of `volume`, due now. */
export function queueAllArchives(context: ProxyContext, volume: ProxyVolume): void {
  for (const name of volume.archiveNames()) context.queueSend(volume.volId, name, 0);
}

/**
 * Startup: loads every volume directory; with `autoStart`, starts each.
 *
 * @throws {ProxyVolumeLoadError} when a volume cannot be loaded or started
 */
export async function recoverAtStartup(context: ProxyContext, autoStart: boolean): Promise<void> {
  for (const volId of await context.store.listVolumes()) {
    const volume = context.volume(volId);
    try {
      await loadVolume(context, volume);
      if (!autoStart) continue;
      await collectReceived(context, volume);
      volume.state.set(PS.started);
      queueAllArchives(context, volume);
    } catch (error) {
      throw new ProxyVolumeLoadError(
        volId,
        error instanceof Error ? error.message : String(error),
        {
          cause: error,
        },
      );
    }
  }
}
