/**
 * Reading a WalB device's log through its wldev (the raw ldev: the ldev file or block
 * device of a userland device, `/dev/walb/LNAME` of a kernel one): the super and the packs,
 * with O_DIRECT on block devices (as walb-tools reads wldevs). Shared by both backends.
 *
 * @module
 */
import { CorruptDataError } from "../errors.ts";
import type { SuperSector } from "../format/wlog/super_sector.ts";
import { type BlockDevice, openBlockDevice } from "./block/mod.ts";
import { LdevLogReader, type LdevPack, type LdevReadStop, readLdevSuper } from "./ldev_reader.ts";

async function withWldev<T>(path: string, body: (device: BlockDevice) => Promise<T>): Promise<T> {
  const device = await openBlockDevice(path, { readOnly: true });
  try {
    return await body(device);
  } finally {
    await device.close();
  }
}

async function superOf(device: BlockDevice, isBlockDevice: boolean): Promise<SuperSector> {
  const readAt = (offset: number, length: number) => device.read(offset, length);
  const check = isBlockDevice ? { devicePbs: device.physicalBlockSize } : {};
  return (await readLdevSuper(readAt, { sizeBytes: device.sizeBytes, ...check })).sup;
}

/**
 * Reads and validates the super sector of a wldev.
 *
 * @throws {CorruptDataError} when the super is invalid
 */
export async function readWldevSuper(path: string): Promise<SuperSector> {
  const isBlockDevice = (await Deno.stat(path)).isBlockDevice === true;
  return await withWldev(path, (device) => superOf(device, isBlockDevice));
}

/**
 * Streams the valid packs of a wldev from `fromLsid` while below `endLsid` (payloads read
 * and checked, a pack with a bad payload truncated and the last one yielded).
 *
 * @returns (as the generator's value) where and why reading stopped
 * @throws {CorruptDataError} when the super is invalid
 */
export async function* readWldevLogpacks(
  path: string,
  fromLsid: bigint,
  endLsid: bigint,
): AsyncGenerator<LdevPack, LdevReadStop> {
  const device = await openBlockDevice(path, { readOnly: true });
  try {
    const readAt = (offset: number, length: number) => device.read(offset, length);
    return yield* readOpenedWldevLogpacks(path, device, readAt, fromLsid, endLsid);
  } finally {
    await device.close();
  }
}

/**
 * {@link readWldevLogpacks} of a wldev the caller opened: the super is read from `device`, the
 * log through `readAt` (the device itself, or the caller's read-ahead over it).
 *
 * @returns (as the generator's value) where and why reading stopped
 * @throws {CorruptDataError} when the super is invalid
 */
export async function* readOpenedWldevLogpacks(
  path: string,
  device: BlockDevice,
  readAt: (offset: number, length: number) => Promise<Uint8Array>,
  fromLsid: bigint,
  endLsid: bigint,
): AsyncGenerator<LdevPack, LdevReadStop> {
  const isBlockDevice = (await Deno.stat(path)).isBlockDevice === true;
  const reader = new LdevLogReader(readAt, await superOf(device, isBlockDevice));
  yield* reader.packs(fromLsid, { endLsid });
  const stop = reader.stop;
  if (stop === undefined) {
    throw new CorruptDataError("wldev", -1, `reading ${path} ended without a reason`);
  }
  return stop;
}

/**
 * Reads the raw pb at `lsid` of a wldev's ring buffer, unchecked (for dumps of bad logpack
 * headers, device-and-wlog.md §3.8).
 *
 * @param path the wldev (ldev file or block device; block devices are read with O_DIRECT)
 * @param lsid any lsid; its position in the ring comes from the super
 * @returns one pb (`pbs` bytes)
 * @throws {CorruptDataError} when the super is invalid
 */
export async function readWldevLogPb(path: string, lsid: bigint): Promise<Uint8Array> {
  const isBlockDevice = (await Deno.stat(path)).isBlockDevice === true;
  return await withWldev(path, async (device) => {
    const sup = await superOf(device, isBlockDevice);
    const reader = new LdevLogReader((offset, length) => device.read(offset, length), sup);
    return await reader.readBlocks(lsid, 1);
  });
}
