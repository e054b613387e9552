/**
 * The archive's long-running operations (protocol-and-servers.md §2.4.5, wdiff-and-archive.md
 * §13.4–§13.7): apply wdiffs to an image, restore, apply to the base, merge, snapshot
 * enable/disable, and deleting diff files. Each checks `signal` between steps.
 *
 * @module
 */
import {
  baseImageName,
  restoredImageName,
  restoredTmpImageName,
} from "../../archive-backend/mod.ts";
import { assert } from "../../errors.ts";
import {
  beginApplying,
  createDiffFileName,
  endApplying,
  mergeDiffList,
  type MetaDiff,
} from "../../format/meta/mod.ts";
import { mergeDiffs } from "../../format/wdiff/merge.ts";
import { applyDiff, type ApplyTarget } from "../../format/wdiff/apply.ts";
import { BackgroundSync } from "../../io/background_sync.ts";
import { lazyRecordsOf } from "../wdiff_records.ts";
import { writeRestoredImage } from "./restore_image.ts";
import type { BlockDevice } from "../../device/block/mod.ts";
import { FULL_SYNC_LIMITS } from "../../limits.ts";
import {
  type DiffRecord,
  type OpenedWdiff,
  openWdiff,
  SortedWdiffWriter,
} from "../../format/wdiff/mod.ts";
import { BufferedWriter } from "../../io/stream.ts";
import { RequestError } from "../../protocol/errors.ts";
import type { ArchiveContext, ArchiveVolume } from "./volume.ts";

/** Chunk limit of merged records in apply/restore/merge (wdiff-and-archive.md §6.4). */
const ARCHIVE_MERGE_MAX_BLOCKS = 2048;

/** Thrown when an operation is aborted by a forced stop or shutdown. */
export class AbortedError extends Error {
  constructor(what: string) {
    super(`${what}:force stopped`);
    this.name = "AbortedError";
  }
}

function checkAbort(volume: ArchiveVolume, signal: AbortSignal, what: string): void {
  if (signal.aborted || volume.stop.isForce) throw new AbortedError(what);
}

/** Records of wdiffs merged, oldest first; `close()` releases the files. */
async function openMerged(
  context: ArchiveContext,
  volume: ArchiveVolume,
  diffs: readonly MetaDiff[],
): Promise<{ records: AsyncGenerator<DiffRecord>; uuid: Uint8Array; close(): void }> {
  const opened: OpenedWdiff[] = [];
  try {
    for (const diff of diffs) {
      opened.push(await openWdiff(context.store.filePath(volume.volId, createDiffFileName(diff))));
    }
  } catch (error) {
    for (const o of opened) o.close();
    throw error;
  }
  const uuid = opened[opened.length - 1]?.reader.header.uuid ?? new Uint8Array(16);
  return {
    records: mergeDiffs(opened.map((o) => lazyRecordsOf(o.reader)), {
      maxBlocks: ARCHIVE_MERGE_MAX_BLOCKS,
    }),
    uuid,
    close: () => opened.forEach((o) => o.close()),
  };
}

/** Passes records through, checking for an abort before each. */
async function* abortable(
  records: AsyncIterable<DiffRecord>,
  volume: ArchiveVolume,
  signal: AbortSignal,
): AsyncGenerator<DiffRecord> {
  for await (const record of records) {
    checkAbort(volume, signal, "applyDiffsToImage");
    yield record;
  }
}

/** Merges `diffs` and applies them to image `imageName` (discard policy, fsync interval). */
export async function applyDiffsToImage(
  context: ArchiveContext,
  volume: ArchiveVolume,
  diffs: readonly MetaDiff[],
  imageName: string,
  signal: AbortSignal,
): Promise<void> {
  if (diffs.length === 0) return;
  const merged = await openMerged(context, volume, diffs);
  const device = await context.backend.open(imageName);
  const writeback = new BackgroundSync(() => device.flush());
  const target = writebackTarget(device, writeback);
  try {
    await applyDiff(abortable(merged.records, volume, signal), target, {
      discardPolicy: context.config.discardPolicy,
      flushIntervalBytes: context.config.fsyncIntervalBytes,
    });
    await target.flush();
  } finally {
    // After an error: let the writes and the sync in flight end before closing.
    await target.drain().catch(() => {});
    await writeback.settle().catch(() => {});
    merged.close();
    await device.close();
  }
}

/**
 * `device` as an apply target that keeps up to `archiveWritesInFlightMax` writes in flight
 * (the merged records never overlap, so their order on disk does not matter; every one
 * completes before a flush) and starts a background `fdatasync` every
 * `archiveWritebackIntervalBytes` written (never waited for; the interval and final syncs
 * still are), so that decoding the next records overlaps the writes and the final sync of a
 * restore or apply finds little left to write. `drain()` waits for the writes in flight.
 */
function writebackTarget(
  device: BlockDevice,
  writeback: BackgroundSync,
): ApplyTarget & { flush(): Promise<void>; drain(): Promise<void> } {
  const inFlight: Promise<void>[] = [];
  let sinceWriteback = 0;
  const track = async (io: Promise<void>, bytes: number) => {
    io.catch(() => {}); // awaited in turn below or by drain()
    inFlight.push(io);
    if (inFlight.length >= FULL_SYNC_LIMITS.archiveWritesInFlightMax) await inFlight.shift();
    sinceWriteback += bytes;
    if (sinceWriteback < FULL_SYNC_LIMITS.archiveWritebackIntervalBytes) return;
    if (await writeback.tryStart()) sinceWriteback = 0;
  };
  const drain = async () => {
    while (inFlight.length > 0) await inFlight.shift();
  };
  return {
    get sizeBytes() {
      return device.sizeBytes;
    },
    write: (offsetBytes, data) => track(device.write(offsetBytes, data), data.length),
    writeZeroes: (offsetBytes, lengthBytes) =>
      track(device.writeZeroes(offsetBytes, lengthBytes), lengthBytes),
    discard: (offsetBytes, lengthBytes) =>
      track(device.discard(offsetBytes, lengthBytes), lengthBytes),
    async flush() {
      await drain();
      await writeback.settle();
      await device.flush();
    },
    drain,
  };
}

/**
 * Restores the clean snapshot `gid` to `wr_<vol>_<gid>`: a temporary image written in one
 * pass from the base and the first `-maxopen` diffs ({@link writeRestoredImage}), any further
 * diffs applied in rounds of `-maxopen` files, then renamed.
 *
 * @throws {RequestError} when the snapshot cannot be materialized
 */
export async function restore(
  context: ArchiveContext,
  volume: ArchiveVolume,
  gid: bigint,
  signal: AbortSignal,
): Promise<void> {
  const volId = volume.volId;
  const diffs = volume.diffs.diffsToRestore(volume.base, gid);
  if (diffs === null) throw new RequestError(`restore:can not restore:${volId}:${gid}`);
  const tmp = restoredTmpImageName(volId, gid);
  if (await context.backend.exists(tmp)) await context.backend.remove(tmp);
  const round = context.config.maxOpenDiffs > 0 ? context.config.maxOpenDiffs : diffs.length;
  if (diffs.length === 0) {
    await context.backend.snapshot(baseImageName(volId), tmp);
  } else {
    await context.backend.create(tmp, await context.backend.sizeBytes(baseImageName(volId)));
  }
  try {
    if (diffs.length > 0) {
      await writeFirstRound(context, volume, diffs.slice(0, round), tmp, signal);
    }
    for (let i = round; i < diffs.length; i += round) {
      checkAbort(volume, signal, "restore");
      await applyDiffsToImage(context, volume, diffs.slice(i, i + round), tmp, signal);
    }
    await context.backend.rename(tmp, restoredImageName(volId, gid));
  } catch (error) {
    await context.backend.remove(tmp).catch(() => {});
    throw error;
  }
}

/** Writes the new image `tmp` (zero-filled, the base's size) as base + `diffs`. */
async function writeFirstRound(
  context: ArchiveContext,
  volume: ArchiveVolume,
  diffs: readonly MetaDiff[],
  tmp: string,
  signal: AbortSignal,
): Promise<void> {
  const baseName = baseImageName(volume.volId);
  const baseExtents = await context.backend.dataExtents?.(baseName);
  const merged = await openMerged(context, volume, diffs);
  try {
    // Buffered: the base is often in the page cache, and read ahead by the kernel when not.
    const base = await context.backend.open(baseName, { readOnly: true });
    try {
      const target = await context.backend.open(tmp, { direct: true });
      try {
        await writeRestoredImage(base, merged.records, target, {
          discardPolicy: context.config.discardPolicy,
          baseExtents,
          checkAbort: () => checkAbort(volume, signal, "restore"),
        });
      } finally {
        await target.close();
      }
    } finally {
      await base.close();
    }
  } finally {
    merged.close();
  }
}

/** Removes diff files (and their entries) of `diffs`. */
export async function removeDiffFiles(
  context: ArchiveContext,
  volume: ArchiveVolume,
  diffs: readonly MetaDiff[],
): Promise<void> {
  for (const diff of diffs) {
    volume.diffs.remove(diff);
    await context.store.removeFile(volume.volId, createDiffFileName(diff)).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
}

/**
 * Applies diffs to the base image up to `gid` (§13.4 step 3): per round, base = applying,
 * apply, base = settled, erase diffs before the new base gid.
 */
export async function applyToBase(
  context: ArchiveContext,
  volume: ArchiveVolume,
  gid: bigint,
  signal: AbortSignal,
): Promise<void> {
  const volId = volume.volId;
  for (;;) {
    checkAbort(volume, signal, "apply");
    const diffs = volume.diffs.diffsToApply(volume.base, gid, context.config.maxOpenDiffs);
    if (diffs.length === 0) return;
    const applying = beginApplying(volume.base, diffs);
    await context.store.writeBase(volId, applying);
    volume.base = applying;
    await applyDiffsToImage(context, volume, diffs, baseImageName(volId), signal);
    const settled = endApplying(volume.base, diffs);
    await context.store.writeBase(volId, settled);
    volume.base = settled;
    await volume.locked(async () => {
      const erased = volume.diffs.eraseBeforeGid(settled.snapB.gidB);
      await removeDiffFiles(context, volume, erased);
    });
  }
}

/** How the merge command chooses its list. */
export type MergeLimit = { kind: "size"; sizeMiB: bigint } | { kind: "gid"; gidE: bigint };

/** The mergeable list of the merge command (§9): from gidB, cut by size or end gid. */
export function mergeCandidates(
  volume: ArchiveVolume,
  gidB: bigint,
  limit: MergeLimit,
): MetaDiff[] {
  if (limit.kind === "gid") {
    return volume.diffs.mergeableList(gidB, (diff) => diff.snapB.gidB < limit.gidE);
  }
  const sizeMax = limit.sizeMiB * (1n << 20n);
  let total = 0n;
  const list = volume.diffs.mergeableList(gidB);
  const out: MetaDiff[] = [];
  for (const diff of list) {
    total += BigInt(diff.dataSize);
    if (out.length > 0 && total > sizeMax) break;
    out.push(diff);
  }
  return out;
}

/**
 * Merges `diffs` into one sorted snappy wdiff (UUID of the last input) named by the merged
 * MetaDiff, registers it and deletes the inputs (§13.6).
 */
export async function mergeFiles(
  context: ArchiveContext,
  volume: ArchiveVolume,
  diffs: readonly MetaDiff[],
  signal: AbortSignal,
): Promise<MetaDiff> {
  assert(diffs.length >= 2, "merge needs two diffs");
  const volId = volume.volId;
  const mergedMeta = mergeDiffList(diffs);
  const tmp = await context.store.fs.makeTempFile(context.store.volumeDir(volId));
  try {
    const merged = await openMerged(context, volume, diffs);
    const file = await context.store.fs.openWrite(tmp);
    try {
      const writer = new SortedWdiffWriter(new BufferedWriter(file), { uuid: merged.uuid });
      for await (const record of merged.records) {
        checkAbort(volume, signal, "merge");
        await writer.add(record);
      }
      await writer.close();
      await file.syncData();
    } finally {
      file.close();
      merged.close();
    }
    const dataSize = await context.store.fs.fileSize(tmp);
    const result = { ...mergedMeta, dataSize };
    await volume.locked(async () => {
      await context.store.fs.commitTempFile(
        tmp,
        context.store.filePath(volId, createDiffFileName(result)),
      );
      await context.store.fs.syncDir(context.store.volumeDir(volId));
      // The list changes in one step (a reader never sees it part-way, e.g. num-diff passing
      // through the final count while the inputs go one by one), then the files go.
      for (const diff of diffs) volume.diffs.remove(diff);
      volume.diffs.add(result);
      await removeDiffFiles(context, volume, diffs);
    });
    return result;
  } catch (error) {
    await context.store.fs.remove(tmp).catch(() => {});
    throw error;
  }
}

/**
 * `enable-snapshot` / `disable-snapshot` (§13.7): flips isMergeable of the diffs starting at
 * each gid and renames their files.
 *
 * @throws {RequestError} when a gid has no diff
 */
export async function changeSnapshots(
  context: ArchiveContext,
  volume: ArchiveVolume,
  gids: readonly bigint[],
  enable: boolean,
): Promise<void> {
  const volId = volume.volId;
  await volume.locked(async () => {
    for (const gid of gids) {
      if (!volume.diffs.all().some((d) => d.snapB.gidB === gid)) {
        throw new RequestError(`changeSnapshot:no such diff:${volId}:${gid}`);
      }
      for (const { before, after } of volume.diffs.changeSnapshot(gid, enable)) {
        await context.store.fs.rename(
          context.store.filePath(volId, createDiffFileName(before)),
          context.store.filePath(volId, createDiffFileName(after)),
        );
      }
    }
    await context.store.fs.syncDir(context.store.volumeDir(volId));
  });
}
