/**
 * {@link openBlockDevice}: picks the {@link BlockDevice} implementation for a path.
 *
 * @module
 */
import { type BlockDevice, BlockIoError } from "./block_device.ts";
import { DirectDevice } from "./direct_device.ts";
import { FileDevice } from "./file_device.ts";
import { PosixFileDevice } from "./posix_file_device.ts";

/** Options of {@link openBlockDevice}. */
export interface OpenBlockDeviceOptions {
  /**
   * Bypass the page cache with O_DIRECT. Default: true for block devices (walb-tools reads
   * wldevs and formats ldevs with O_DIRECT), false for regular files (their page cache is
   * coherent, device-and-wlog.md §9 item 12).
   */
  direct?: boolean;
  /** Open read-only (default false). */
  readOnly?: boolean;
  /** Buffered files: see PosixFileDeviceOptions.syncWriteSizeMaxBytes (default 0). */
  syncWriteSizeMaxBytes?: number;
}

/**
 * Opens a regular file or a block device as a {@link BlockDevice}: a block device becomes a
 * {@link DirectDevice}, a regular file a {@link PosixFileDevice} (concurrent positional I/O
 * through the page cache; a {@link FileDevice} when FFI is not allowed), unless `direct` says
 * otherwise.
 *
 * @param path the file or device
 * @param options `direct`, `readOnly`
 * @returns the opened device; close it when done
 * @throws {BlockIoError} code EINVAL when the path is neither a file nor a block device,
 *   or when O_DIRECT is refused (tmpfs); `Deno.errors.NotFound` when it does not exist
 *
 * @example
 * ```ts
 * import { openBlockDevice } from "./open.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.truncate(path, 65536);
 * const device = await openBlockDevice(path, { readOnly: true });
 * if (device.sizeBytes !== 65536) throw new Error("wrong size");
 * await device.close();
 * await Deno.remove(path);
 * ```
 */
export async function openBlockDevice(
  path: string,
  options: OpenBlockDeviceOptions = {},
): Promise<BlockDevice> {
  const stat = await Deno.stat(path);
  if (!stat.isFile && !stat.isBlockDevice) {
    throw new BlockIoError("open", path, "EINVAL", "not a block device or a regular file");
  }
  const readOnly = options.readOnly ?? false;
  const direct = options.direct ?? stat.isBlockDevice;
  if (direct) return await DirectDevice.open(path, { readOnly });
  if (PosixFileDevice.available) {
    const syncWriteSizeMaxBytes = options.syncWriteSizeMaxBytes ?? 0;
    return await PosixFileDevice.open(path, { readOnly, syncWriteSizeMaxBytes });
  }
  return await FileDevice.open(path, { readOnly });
}
