/**
 * Changes of a volume's done record and snapshot queue, each persisted before the memory
 * copy changes (wdiff-and-archive.md §10, §15): taking a snapshot, resetting the log's
 * records, committing a transfer.
 *
 * @module
 */
import { type MetaLsidGid, metaLsidGid, takeSnapshot } from "../../format/meta/mod.ts";
import type { WalbDevice } from "../../device/wdev.ts";
import { RequestError } from "../../protocol/errors.ts";
import type { StorageContext, StorageVolume } from "./volume.ts";

/** Persists and sets the queue. */
export async function saveQueue(
  context: StorageContext,
  volume: StorageVolume,
  queue: MetaLsidGid[],
): Promise<void> {
  await context.store.writeQueue(volume.volId, { salt: volume.queueSalt, records: queue });
  volume.queue = queue;
}

/** Persists and sets the done record. */
export async function saveDone(
  context: StorageContext,
  volume: StorageVolume,
  done: MetaLsidGid,
): Promise<void> {
  await context.store.writeDone(volume.volId, done);
  volume.done = done;
}

/**
 * Takes a snapshot at the device's latest lsid and queues it (newest first).
 *
 * @param isMergeable true for implicit snapshots, false for `walbc snapshot`
 * @throws {RequestError} when the log has overflowed or the lsid went backwards
 */
export async function takeVolumeSnapshot(
  context: StorageContext,
  volume: StorageVolume,
  device: WalbDevice,
  isMergeable: boolean,
): Promise<MetaLsidGid> {
  return await volume.locked(async () => {
    if (await device.isOverflow()) {
      throw new RequestError(`takeSnapshot:log overflow:${volume.volId}`);
    }
    const [lsids, sup] = await Promise.all([device.lsids(), device.readSuper()]);
    const previous = volume.latestRecord();
    if (lsids.latest < previous.lsid) {
      throw new RequestError(
        `takeSnapshot:lsid went backwards:${volume.volId}:${lsids.latest}:${previous.lsid}`,
      );
    }
    const queue = takeSnapshot(volume.done, volume.queue, {
      lsid: lsids.latest,
      isMergeable,
      timestamp: context.nowSec(),
      maxWlogSendPb: context.maxWlogSendPb(sup.pbs),
    });
    await saveQueue(context, volume, queue);
    return queue[0]!;
  });
}

/**
 * Resets the device log and the records (full/hash backup, reset-vol, standby start after
 * an overflow): WAL cleared, done = (lsid 0, `gid`, ¬mergeable, now), empty queue, the new
 * device UUID stored.
 */
export async function resetLogAndRecords(
  context: StorageContext,
  volume: StorageVolume,
  device: WalbDevice,
  gid: bigint,
): Promise<void> {
  await volume.locked(async () => {
    await device.resetWal();
    const sup = await device.readSuper();
    await saveDone(context, volume, metaLsidGid(0n, gid, { timestamp: context.nowSec() }));
    await saveQueue(context, volume, []);
    await context.store.writeUuid(volume.volId, sup.uuid);
    volume.uuid = sup.uuid.slice();
  });
}
