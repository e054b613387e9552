/**
 * Applying logged IOs to the ddev in lsid order: normal writes are written, discards are
 * discarded (hole punch on files and memory, so the image reads zeros). IOs that do not
 * overlap run concurrently; an IO waits for every earlier IO it overlaps, so the later lsid
 * always wins (§9 "need not reproduce": only the order of overlapping IOs matters).
 *
 * Within a group of non-overlapping IOs, writes that touch end to end are merged into one
 * gather write (`pwritev` on a file): sequential 4 KiB writes logged as packs of 8 records go
 * to the ddev in one call per round, not one per record.
 *
 * @module
 */
import { assert } from "../../errors.ts";
import type { BlockDevice } from "../block/block_device.ts";
import { WALB_ENGINE_LIMITS } from "./limits.ts";
import type { PayloadLease } from "./payload_pool.ts";

/** One IO for the ddev: `data` for a write, null for a discard (reads as zeros). */
export interface DataIo {
  offsetBytes: number;
  lengthBytes: number;
  data: Uint8Array | null;
  /**
   * When `data` is a view of a pooled payload buffer: its lease, which the engine holds from
   * commit until the IO is on the ddev (and each read laying it over its result holds too).
   */
  lease?: PayloadLease;
}

/** A run of writes that touch end to end: the parts go to the ddev at `offsetBytes`. */
export interface MergedWrite {
  offsetBytes: number;
  lengthBytes: number;
  parts: Uint8Array[];
}

/** Size of the buckets overlap checks look in [bytes]. */
const BUCKET_SIZE_BYTES = 64 * 1024;

/** Issues one IO, split at the block layer's I/O limit for writes. */
export async function applyDataIo(ddev: BlockDevice, io: DataIo): Promise<void> {
  if (io.data === null) {
    await ddev.discard(io.offsetBytes, io.lengthBytes);
    return;
  }
  await writeMerged(ddev, {
    offsetBytes: io.offsetBytes,
    lengthBytes: io.lengthBytes,
    parts: [io.data],
  });
}

/**
 * Writes a merged run: one gather write when the device has one, else part by part (each
 * split at the block layer's I/O limit).
 */
export async function writeMerged(ddev: BlockDevice, write: MergedWrite): Promise<void> {
  if (ddev.writeGather !== undefined) {
    await ddev.writeGather(write.offsetBytes, write.parts);
    return;
  }
  const chunk = WALB_ENGINE_LIMITS.ioSizeBytesMax - WALB_ENGINE_LIMITS.ioSizeBytesMax % 4096;
  let offset = write.offsetBytes;
  for (const part of write.parts) {
    for (let position = 0; position < part.length; position += chunk) {
      await ddev.write(offset + position, part.subarray(position, position + chunk));
    }
    offset += part.length;
  }
}

/**
 * Sorts a group of non-overlapping IOs by offset and merges writes that touch end to end
 * (up to the I/O limit and the gather limit per write). Discards stay alone.
 */
export function mergeGroup(
  group: readonly DataIo[],
): { writes: MergedWrite[]; discards: DataIo[] } {
  const sorted = [...group].sort((a, b) => a.offsetBytes - b.offsetBytes);
  const writes: MergedWrite[] = [];
  const discards: DataIo[] = [];
  let last: MergedWrite | undefined;
  for (const io of sorted) {
    if (io.data === null) {
      discards.push(io);
      last = undefined;
      continue;
    }
    assert(io.data.length === io.lengthBytes, "a write carries its whole payload");
    if (
      last !== undefined && last.offsetBytes + last.lengthBytes === io.offsetBytes &&
      last.lengthBytes + io.lengthBytes <= WALB_ENGINE_LIMITS.ioSizeBytesMax &&
      last.parts.length < WALB_ENGINE_LIMITS.gatherPartsMax
    ) {
      last.parts.push(io.data);
      last.lengthBytes += io.lengthBytes;
      continue;
    }
    last = { offsetBytes: io.offsetBytes, lengthBytes: io.lengthBytes, parts: [io.data] };
    writes.push(last);
  }
  return { writes, discards };
}

/**
 * Splits `ios` (in lsid order) into groups of non-overlapping IOs: a group ends before the
 * first IO that overlaps one of it.
 */
export function groupDataIos(ios: readonly DataIo[]): DataIo[][] {
  const groups: DataIo[][] = [];
  let group: DataIo[] = [];
  let buckets = new Map<number, DataIo[]>();
  for (const io of ios) {
    const first = Math.floor(io.offsetBytes / BUCKET_SIZE_BYTES);
    const last = Math.floor((io.offsetBytes + Math.max(io.lengthBytes, 1) - 1) / BUCKET_SIZE_BYTES);
    let clash = false;
    for (let bucket = first; bucket <= last && !clash; bucket++) {
      clash = buckets.get(bucket)?.some((other) => overlaps(io, other)) ?? false;
    }
    if (clash) {
      groups.push(group);
      group = [];
      buckets = new Map();
    }
    group.push(io);
    for (let bucket = first; bucket <= last; bucket++) {
      const members = buckets.get(bucket);
      if (members === undefined) buckets.set(bucket, [io]);
      else members.push(io);
    }
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

function overlaps(a: DataIo, b: DataIo): boolean {
  return a.offsetBytes < b.offsetBytes + b.lengthBytes &&
    b.offsetBytes < a.offsetBytes + a.lengthBytes;
}

/** Options of {@link applyDataIos}. */
export interface ApplyOptions {
  /**
   * Lets the event loop run (`pause`) whenever issuing writes has held this thread for
   * `sliceMs` (small writes to a file ddev run synchronously). Pausing between the writes of
   * a group is safe: they do not overlap, and every IO stays pending until the call returns.
   */
  slice?: { sliceMs: number; pause: () => Promise<void> };
}

/**
 * Applies `ios` (in lsid order) to the ddev: group by group (see {@link groupDataIos}), the
 * IOs of a group together, touching writes merged (see {@link mergeGroup}).
 */
export async function applyDataIos(
  ddev: BlockDevice,
  ios: readonly DataIo[],
  options: ApplyOptions = {},
): Promise<void> {
  const slice = options.slice;
  let sliceStart = performance.now();
  for (const group of groupDataIos(ios)) {
    const { writes, discards } = mergeGroup(group);
    const calls = new Set<Promise<void>>();
    const failures: unknown[] = [];
    const issue = async (call: () => Promise<void>) => {
      // At most applyCallsMax calls in flight: writes that go to the blocking pool must not
      // queue hundreds deep ahead of the log writes.
      while (calls.size >= WALB_ENGINE_LIMITS.applyCallsMax) await Promise.race(calls);
      const promise = call().catch((error) => {
        failures.push(error);
      }).finally(() => calls.delete(promise));
      calls.add(promise);
    };
    for (const io of discards) await issue(() => ddev.discard(io.offsetBytes, io.lengthBytes));
    let merged = writes;
    if (ddev.writeList !== undefined) {
      // Single-part writes of the group (random IOs) go as one list write.
      const singles = writes.filter((write) => write.parts.length === 1);
      merged = writes.filter((write) => write.parts.length > 1);
      if (singles.length > 0) {
        const list = singles.map((write) => ({
          offsetBytes: write.offsetBytes,
          data: write.parts[0]!,
        }));
        await issue(() => ddev.writeList!(list));
      }
    }
    for (const write of merged) {
      await issue(() => writeMerged(ddev, write));
      if (slice !== undefined && performance.now() - sliceStart >= slice.sliceMs) {
        await slice.pause();
        sliceStart = performance.now();
      }
    }
    await Promise.all(calls);
    if (failures.length > 0) throw failures[0];
  }
}
