/**
 * One WalB device interface, {@link WalbDevice}, used by the storage server and by `wdevc`,
 * with two backends: the kernel driver (ioctls and sysfs on `/dev/walb/NAME`) and the
 * userland daemon (a control socket at `<run dir>/NAME`). {@link openWalbDevice} picks the
 * backend from what the WDEV path is: a unix socket → userland, a block device → kernel.
 *
 * Semantics and validation are those of device-and-wlog.md §5–6: a refused operation throws
 * {@link WalbDeviceError} with the driver's errno-style code.
 *
 * @module
 */
import type { SuperSector } from "../format/wlog/super_sector.ts";
import type { LdevPack, LdevReadStop } from "./ldev_reader.ts";
import type { LsidSet } from "./kernel/sysfs.ts";
import { KernelWalbDevice } from "./kernel/device.ts";
import { UserlandWalbDevice } from "./userland/client.ts";
import { WalbDeviceError } from "./wdev_error.ts";

export { WalbDeviceError, type WalbDeviceErrorCode } from "./wdev_error.ts";
export type { LdevPack, LdevReadStop, LsidSet };

/** Which implementation serves a device. */
export type WalbBackendKind = "user" | "kernel";

/**
 * A WalB device, kernel or userland. Every method talks to the device afresh (no caching),
 * so two processes may drive the same device.
 */
export interface WalbDevice {
  /** "user" (daemon) or "kernel" (driver). */
  readonly backend: WalbBackendKind;
  /** The WDEV path: `<run dir>/NAME` or `/dev/walb/NAME`. */
  readonly path: string;
  /** The device name. */
  name(): Promise<string>;
  /** The super sector as on the ldev now (read through the wldev). */
  readSuper(): Promise<SuperSector>;
  /**
   * Streams the valid logpacks from `fromLsid` (a pack boundary) while below `endLsid`,
   * payloads included and checked (§8), read from the wldev; the generator's return value
   * says where and why reading stopped (`limit` when `endLsid` was reached).
   */
  readLogpacks(fromLsid: bigint, endLsid: bigint): AsyncGenerator<LdevPack, LdevReadStop>;
  /**
   * The raw pb at `lsid` of the log ring (read from the wldev, no validation): what the
   * storage dumps as `logpackheader-<lsid>` (device-and-wlog.md §3.8).
   */
  readLogPb(lsid: bigint): Promise<Uint8Array>;
  /** The lsid set (§5.1). */
  lsids(): Promise<LsidSet>;
  /**
   * Waits until `permanent > afterLsid` (new durable log) or the timeout.
   *
   * @returns true when new log exists, false on timeout
   */
  waitForPermanent(afterLsid: bigint, timeoutMs: number): Promise<boolean>;
  /** SET_OLDEST_LSID (§5.3); EFAULT when out of range or not at a pack boundary. */
  setOldestLsid(lsid: bigint): Promise<void>;
  /** TAKE_CHECKPOINT (§5.4). */
  takeCheckpoint(): Promise<void>;
  /** GET_CHECKPOINT_INTERVAL [ms]. */
  getCheckpointInterval(): Promise<number>;
  /** SET_CHECKPOINT_INTERVAL [ms] (≤ 86400000; 0 disables). */
  setCheckpointInterval(intervalMs: number): Promise<void>;
  /** latest − oldest [pb]. */
  logUsage(): Promise<bigint>;
  /** ring_buffer_size [pb]. */
  logCapacity(): Promise<bigint>;
  /** IS_LOG_OVERFLOW. */
  isOverflow(): Promise<boolean>;
  /** IS_FLUSH_CAPABLE. */
  isFlushCapable(): Promise<boolean>;
  /** FREEZE with an automatic melt after `timeoutSec` (0 = none). */
  freeze(timeoutSec: number): Promise<void>;
  /** MELT. */
  melt(): Promise<void>;
  /** IS_FROZEN. */
  isFrozen(): Promise<boolean>;
  /** RESIZE to `sizeLb` (0 = the ddev size); grow only. */
  resize(sizeLb: bigint): Promise<void>;
  /** CLEAR_LOG: new salt and uuid, lsids 0, overflow cleared; all logs are lost. */
  resetWal(): Promise<void>;
  /**
   * wdevc clear-wal (§7): wait until `written ≥ permanent`, checkpoint, set the oldest lsid
   * there.
   *
   * @param timeoutSec 0 waits forever; on expiry it fails with ETIMEDOUT ("timeout")
   */
  clearWal(timeoutSec: number): Promise<void>;
  /** Size of the WalB device [lb]. */
  sizeLb(): Promise<bigint>;
  /** Releases what this handle holds (not the device). */
  close(): Promise<void>;
}

/** Where kernel WalB devices live. */
export const KERNEL_WDEV_DIR = "/dev/walb";
/** The kernel driver's control node. */
export const KERNEL_CONTROL_PATH = "/dev/walb/control";

/**
 * Which backend serves the device at `path`: a unix socket → "user", a block device →
 * "kernel".
 *
 * @throws {WalbDeviceError} ENODEV when the path is neither (or does not exist)
 */
export async function walbBackendOf(path: string): Promise<WalbBackendKind> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new WalbDeviceError(`open WalB device ${path}`, "ENODEV", "no such file", {
      cause: error,
    });
  }
  if (stat.isSocket === true) return "user";
  if (stat.isBlockDevice === true) return "kernel";
  throw new WalbDeviceError(
    `open WalB device ${path}`,
    "ENODEV",
    "not a unix socket (userland device) or a block device (kernel device)",
  );
}

/**
 * Opens the WalB device at a WDEV path with the backend its file type calls for.
 *
 * @param path `<run dir>/NAME` (userland) or `/dev/walb/NAME` (kernel)
 * @returns a handle; {@link WalbDevice.close} it when done
 * @throws {WalbDeviceError} ENODEV when the path is not a WalB device
 * @example
 * ```ts
 * import { openWalbDevice, WalbDeviceError } from "./wdev.ts";
 * try {
 *   await openWalbDevice("/nonexistent/walb/vol0");
 *   throw new Error("opened");
 * } catch (error) {
 *   if (!(error instanceof WalbDeviceError) || error.code !== "ENODEV") throw error;
 * }
 * ```
 */
export async function openWalbDevice(path: string): Promise<WalbDevice> {
  const kind = await walbBackendOf(path);
  if (kind === "user") return new UserlandWalbDevice(path);
  return await KernelWalbDevice.open(path);
}

/** True when the kernel module's control node exists (format-ldev/create-wdev default). */
export async function kernelModuleLoaded(): Promise<boolean> {
  try {
    const stat = await Deno.stat(KERNEL_CONTROL_PATH);
    return stat.isCharDevice === true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
