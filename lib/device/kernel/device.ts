/**
 * The kernel backend of {@link WalbDevice}: per-device `walb_ctl` ioctls on `/dev/walb/NAME`
 * (opened O_RDWR, as walb-tools does), the sysfs `lsids` file, the wldev `/dev/walb/LNAME`
 * read with O_DIRECT, and BLKGETSIZE64 for the size. New-log waits poll `lsids` (the spec
 * allows polling with a timeout instead of EPOLLPRI, §9 item 6). Untested without the module
 * (docs/device.md).
 *
 * @module
 */
import { blockDeviceSizeBytes, LibcFile, O } from "../../../ffi/libc.ts";
import { type Clock, realClock } from "../../clock.ts";
import type { SuperSector } from "../../format/wlog/super_sector.ts";
import type { LdevPack, LdevReadStop } from "../ldev_reader.ts";
import type { WalbDevice } from "../wdev.ts";
import { WalbDeviceError } from "../wdev_error.ts";
import { readWldevLogpacks, readWldevLogPb, readWldevSuper } from "../wldev.ts";
import { callWalbCtl } from "./control.ts";
import { emptyCtl, WALB_COMMAND, WALB_IOCTL, type WalbCtl } from "./ctl.ts";
import { type LsidSet, parseLsids, walbSysfsDir } from "./sysfs.ts";

/** Prefix of kernel WalB device paths; the name is the rest. */
export const KERNEL_WDEV_PREFIX = "/dev/walb/";

/** `getLsid` treats this as an error (§7). */
const U64_MAX = 0xffffffffffffffffn;

/** Poll period of waits on the lsids [ms] (clear-wal polls every 500 ms, §7). */
const POLL_MS = { permanent: 100, clearWal: 500 } as const;

/** The WalB device name of a kernel WDEV path (`/dev/walb/NAME` → NAME). */
export function kernelDeviceName(path: string): string {
  if (!path.startsWith(KERNEL_WDEV_PREFIX)) {
    throw new WalbDeviceError(`open ${path}`, "ENODEV", `not under ${KERNEL_WDEV_PREFIX}`);
  }
  return path.slice(KERNEL_WDEV_PREFIX.length);
}

/** A kernel WalB device. */
export class KernelWalbDevice implements WalbDevice {
  readonly backend = "kernel" as const;
  readonly path: string;
  readonly #name: string;
  readonly #file: LibcFile;
  readonly #clock: Clock;

  private constructor(path: string, file: LibcFile, clock: Clock) {
    this.path = path;
    this.#name = kernelDeviceName(path);
    this.#file = file;
    this.#clock = clock;
  }

  /**
   * Opens `/dev/walb/NAME` O_RDWR.
   *
   * @throws {WalbDeviceError} ENODEV when the path is not under /dev/walb
   * @throws {LibcError} when the open fails
   */
  static open(path: string, clock: Clock = realClock): Promise<KernelWalbDevice> {
    kernelDeviceName(path);
    return Promise.resolve(
      new KernelWalbDevice(path, LibcFile.open(path, { flags: O.RDWR }), clock),
    );
  }

  #ctl(name: keyof typeof WALB_COMMAND, set: Partial<WalbCtl> = {}): WalbCtl {
    const ctl = { ...emptyCtl(WALB_COMMAND[name]), ...set };
    return callWalbCtl(this.#file, WALB_IOCTL.WDEV, ctl, `${name} on ${this.path}`);
  }

  #lsid(name: keyof typeof WALB_COMMAND): bigint {
    const value = this.#ctl(name).valU64;
    if (value === U64_MAX) {
      throw new WalbDeviceError(`${name} on ${this.path}`, "EFAULT", "invalid lsid");
    }
    return value;
  }

  /** The wldev path: `/dev/walb/LNAME`. */
  get wldevPath(): string {
    return `${KERNEL_WDEV_PREFIX}L${this.#name}`;
  }

  name(): Promise<string> {
    return Promise.resolve(this.#name);
  }

  readSuper(): Promise<SuperSector> {
    return readWldevSuper(this.wldevPath);
  }

  readLogpacks(fromLsid: bigint, endLsid: bigint): AsyncGenerator<LdevPack, LdevReadStop> {
    return readWldevLogpacks(this.wldevPath, fromLsid, endLsid);
  }

  readLogPb(lsid: bigint): Promise<Uint8Array> {
    return readWldevLogPb(this.wldevPath, lsid);
  }

  async lsids(): Promise<LsidSet> {
    return parseLsids(await Deno.readTextFile(`${walbSysfsDir(this.#name)}lsids`));
  }

  async waitForPermanent(afterLsid: bigint, timeoutMs: number): Promise<boolean> {
    const deadline = this.#clock.nowMs() + timeoutMs;
    for (;;) {
      if ((await this.lsids()).permanent > afterLsid) return true;
      const left = deadline - this.#clock.nowMs();
      if (left <= 0) return false;
      await this.#clock.sleep(Math.min(left, POLL_MS.permanent));
    }
  }

  setOldestLsid(lsid: bigint): Promise<void> {
    this.#ctl("SET_OLDEST_LSID", { valU64: lsid });
    return Promise.resolve();
  }

  takeCheckpoint(): Promise<void> {
    this.#ctl("TAKE_CHECKPOINT");
    return Promise.resolve();
  }

  getCheckpointInterval(): Promise<number> {
    return Promise.resolve(this.#ctl("GET_CHECKPOINT_INTERVAL").valU32);
  }

  setCheckpointInterval(intervalMs: number): Promise<void> {
    this.#ctl("SET_CHECKPOINT_INTERVAL", { valU32: intervalMs });
    return Promise.resolve();
  }

  logUsage(): Promise<bigint> {
    return Promise.resolve(this.#ctl("GET_LOG_USAGE").valU64);
  }

  logCapacity(): Promise<bigint> {
    return Promise.resolve(this.#ctl("GET_LOG_CAPACITY").valU64);
  }

  isOverflow(): Promise<boolean> {
    return Promise.resolve(this.#ctl("IS_LOG_OVERFLOW").valInt !== 0);
  }

  isFlushCapable(): Promise<boolean> {
    return Promise.resolve(this.#ctl("IS_FLUSH_CAPABLE").valInt !== 0);
  }

  freeze(timeoutSec: number): Promise<void> {
    this.#ctl("FREEZE", { valU32: timeoutSec });
    return Promise.resolve();
  }

  melt(): Promise<void> {
    this.#ctl("MELT");
    return Promise.resolve();
  }

  isFrozen(): Promise<boolean> {
    return Promise.resolve(this.#ctl("IS_FROZEN").valInt !== 0);
  }

  resize(sizeLb: bigint): Promise<void> {
    this.#ctl("RESIZE", { valU64: sizeLb });
    return Promise.resolve();
  }

  resetWal(): Promise<void> {
    this.#ctl("CLEAR_LOG");
    return Promise.resolve();
  }

  /** §7 clear-wal: poll written every 500 ms until ≥ permanent, checkpoint, set oldest. */
  async clearWal(timeoutSec: number): Promise<void> {
    const target = this.#lsid("GET_PERMANENT_LSID");
    const start = this.#clock.nowMs();
    while (this.#lsid("GET_WRITTEN_LSID") < target) {
      if (timeoutSec > 0 && this.#clock.nowMs() - start > timeoutSec * 1000) {
        throw new WalbDeviceError(`clear the WAL of ${this.path}`, "ETIMEDOUT", "timeout");
      }
      await this.#clock.sleep(POLL_MS.clearWal);
    }
    this.#ctl("TAKE_CHECKPOINT");
    this.#ctl("SET_OLDEST_LSID", { valU64: target });
  }

  /** GET_OLDEST/WRITTEN/PERMANENT/COMPLETED_LSID by ioctl (wdevc's get-*-lsid). */
  getLsid(which: "oldest" | "written" | "permanent" | "completed"): bigint {
    const command = {
      oldest: "GET_OLDEST_LSID",
      written: "GET_WRITTEN_LSID",
      permanent: "GET_PERMANENT_LSID",
      completed: "GET_COMPLETED_LSID",
    } as const;
    return this.#lsid(command[which]);
  }

  sizeLb(): Promise<bigint> {
    return Promise.resolve(blockDeviceSizeBytes(this.#file) / 512n);
  }

  close(): Promise<void> {
    this.#file.close();
    return Promise.resolve();
  }
}
