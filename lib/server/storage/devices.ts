/**
 * How the storage reaches WalB devices (STYLE.md: servers are given their devices): open a
 * WDEV path (userland control socket or kernel block device) and read the device's data for
 * a full backup — from `/dev/walb/NAME` for a kernel device; for a userland one from its ddev
 * directly once the WAL was reset (the reset drained every logged write into the ddev), else
 * through the daemon's NBD socket — and read its logpacks (large O_DIRECT reads ahead).
 *
 * @module
 */
import { type BlockDevice, openBlockDevice } from "../../device/block/mod.ts";
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
  /**
   * Opens the data of an opened device for reading. With `afterWalReset`, the caller has just
   * reset the device's WAL (full backup): every write logged before is then in the ddev, and
   * every later one is in the new log, so a userland device's ddev may be read directly
   * (without the daemon: the data does not cross its NBD socket).
   */
  openData(device: WalbDevice, options?: { afterWalReset?: boolean }): Promise<DeviceDataReader>;
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
  async openData(
    device: WalbDevice,
    options: { afterWalReset?: boolean } = {},
  ): Promise<DeviceDataReader> {
    if (device instanceof UserlandWalbDevice) {
      const info = await device.info();
      // A relative path is the daemon's, relative to where it was started: not usable here.
      if (options.afterWalReset === true && info.ddevPath.startsWith("/")) {
        const ddev = await openBlockDevice(info.ddevPath, { readOnly: true }).catch(() =>
          undefined
        );
        if (ddev !== undefined) return blockReader(ddev);
        // Not readable here (permissions): through the daemon, as without the reset.
      }
      const client = await NbdReadClient.connectUnix(info.nbdPath);
      return {
        read: (offset, length) => client.read(offset, length),
        close: () => client.disconnect(),
      };
    }
    return blockReader(await openBlockDevice(device.path, { readOnly: true }));
  },
};

function blockReader(block: BlockDevice): DeviceDataReader {
  return { read: (offset, length) => block.read(offset, length), close: () => block.close() };
}
