/**
 * How the storage reaches WalB devices (STYLE.md: servers are given their devices): open a
 * WDEV path (userland control socket or kernel block device) and read the device's data for
 * a full backup — through the daemon's NBD socket for a userland device, from
 * `/dev/walb/NAME` for a kernel one — and read its logpacks (large O_DIRECT reads ahead).
 *
 * @module
 */
import { openBlockDevice } from "../../device/block/mod.ts";
import { UserlandWalbDevice } from "../../device/userland/client.ts";
import {
  type LdevPack,
  type LdevReadStop,
  openWalbDevice,
  type WalbDevice,
} from "../../device/wdev.ts";
import { NbdReadClient } from "../../nbd/client.ts";
import { readLogpacksAhead } from "./wldev_reader.ts";

/** Sequential reads of a WalB device's data. */
export interface DeviceDataReader {
  read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** The device operations a storage server is given. */
export interface StorageDevices {
  /** True when `path` exists (init-vol and startup refuse a missing device). */
  exists(path: string): Promise<boolean>;
  /** Opens the WalB device at a WDEV path. */
  open(path: string): Promise<WalbDevice>;
  /** Opens the data of an opened device for reading. */
  openData(device: WalbDevice): Promise<DeviceDataReader>;
  /** The device's logpacks from `fromLsid` while below `endLsid` ({@link WalbDevice.readLogpacks}). */
  readLogpacks(
    device: WalbDevice,
    fromLsid: bigint,
    endLsid: bigint,
  ): AsyncGenerator<LdevPack, LdevReadStop>;
}

/** Real devices: {@link openWalbDevice}, NBD for userland data, the block device for kernel. */
export const REAL_STORAGE_DEVICES: StorageDevices = {
  async exists(path: string): Promise<boolean> {
    try {
      await Deno.stat(path);
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  },
  open: openWalbDevice,
  readLogpacks: readLogpacksAhead,
  async openData(device: WalbDevice): Promise<DeviceDataReader> {
    if (device instanceof UserlandWalbDevice) {
      const client = await NbdReadClient.connectUnix((await device.info()).nbdPath);
      return {
        read: (offset, length) => client.read(offset, length),
        close: () => client.disconnect(),
      };
    }
    const block = await openBlockDevice(device.path, { readOnly: true });
    return { read: (offset, length) => block.read(offset, length), close: () => block.close() };
  },
};
