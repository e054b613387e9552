/**
 * Applying logged IOs to the ddev in lsid order: normal writes are written, discards are
 * discarded (hole punch on files and memory, so the image reads zeros). IOs that do not
 * overlap run concurrently; an IO waits for every earlier IO it overlaps, so the later lsid
 * always wins (§9 "need not reproduce": only the order of overlapping IOs matters).
 *
 * @module
 */
import type { BlockDevice } from "../block/block_device.ts";
import { WALB_ENGINE_LIMITS } from "./limits.ts";

/** One IO for the ddev: `data` for a write, null for a discard (reads as zeros). */
export interface DataIo {
  offsetBytes: number;
  lengthBytes: number;
  data: Uint8Array | null;
}

function overlaps(a: DataIo, b: DataIo): boolean {
  return a.offsetBytes < b.offsetBytes + b.lengthBytes &&
    b.offsetBytes < a.offsetBytes + a.lengthBytes;
}

/** Issues one IO, split at the block layer's I/O limit for writes. */
export async function applyDataIo(ddev: BlockDevice, io: DataIo): Promise<void> {
  if (io.data === null) {
    await ddev.discard(io.offsetBytes, io.lengthBytes);
    return;
  }
  const chunk = WALB_ENGINE_LIMITS.ioSizeBytesMax - WALB_ENGINE_LIMITS.ioSizeBytesMax % 4096;
  for (let position = 0; position < io.data.length; position += chunk) {
    await ddev.write(io.offsetBytes + position, io.data.subarray(position, position + chunk));
  }
}

/**
 * Applies `ios` (in lsid order) to the ddev: groups of non-overlapping IOs run together,
 * a group ends before the first IO that overlaps one of it.
 */
export async function applyDataIos(ddev: BlockDevice, ios: readonly DataIo[]): Promise<void> {
  let group: DataIo[] = [];
  const run = async () => {
    await Promise.all(group.map((io) => applyDataIo(ddev, io)));
    group = [];
  };
  for (const io of ios) {
    if (group.some((other) => overlaps(io, other))) await run();
    group.push(io);
  }
  await run();
}
