/**
 * Loading volumes at startup (protocol-and-servers.md §2.2.8): every subdirectory of the
 * base directory is a volume; its state comes from the `state` file (temporary states of a
 * killed process are lost: a full backup interrupted at any point restarts from SyncReady);
 * volumes in Target or Standby resume device monitoring with a task queued. A missing or bad
 * file, or a walb device path that does not exist, fails the startup.
 *
 * @module
 */
import { SS } from "./constants.ts";
import { startMonitoring } from "./monitor.ts";
import type { StorageContext, StorageVolume } from "./volume.ts";

/** A volume that cannot be loaded at startup: the server must exit 1. */
export class StorageVolumeLoadError extends Error {
  constructor(volId: string, detail: string, options?: ErrorOptions) {
    super(`Cannot load storage volume ${volId}: ${detail}`, options);
    this.name = "StorageVolumeLoadError";
  }
}

/** Loads one volume directory into memory. */
export async function loadVolume(context: StorageContext, volume: StorageVolume): Promise<void> {
  const store = context.store;
  const volId = volume.volId;
  const wdevPath = await store.readPath(volId);
  const state = await store.readState(volId);
  const uuid = await store.readUuid(volId);
  const done = await store.readDone(volId);
  const queue = await store.readQueue(volId);
  if (!(await context.devices.exists(wdevPath))) {
    throw new Error(`walb device not found:${wdevPath}`);
  }
  volume.reset();
  volume.wdevPath = wdevPath;
  volume.uuid = uuid;
  volume.done = done;
  volume.queue = queue.records;
  volume.queueSalt = queue.salt;
  volume.device = await context.devices.open(wdevPath);
  volume.state.set(state);
}

/**
 * Startup: loads every volume directory and resumes monitoring of Target/Standby volumes.
 *
 * @throws {StorageVolumeLoadError} when a volume cannot be loaded
 */
export async function recoverAtStartup(context: StorageContext): Promise<void> {
  for (const volId of await context.store.listVolumes()) {
    const volume = context.volume(volId);
    try {
      await loadVolume(context, volume);
    } catch (error) {
      throw new StorageVolumeLoadError(
        volId,
        error instanceof Error ? error.message : String(error),
        { cause: error },
      );
    }
    const state = volume.state.state;
    if (state === SS.target || state === SS.standby) {
      startMonitoring(context, volume);
      context.pushTask(volId, 0);
    }
    context.runtime.log("INFO", `loadVolume:${volId}:${state}`);
  }
}
