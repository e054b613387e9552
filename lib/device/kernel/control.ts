/**
 * Calls into the WalB kernel driver through ffi: `walb_ctl` ioctls on `/dev/walb/control`
 * (START_DEV, STOP_DEV, LIST_DEV, VERSION) and on a wdev, and the device numbers of a path
 * (`st_rdev`). The buffers are built by ctl.ts (tested against the spec); the ioctls
 * themselves need the module and are untested here (docs/device.md).
 *
 * @module
 */
import { LibcError, LibcFile, O } from "../../../ffi/libc.ts";
import { WalbDeviceError } from "../wdev_error.ts";
import {
  decodeDiskDataList,
  decodeStartParam,
  decodeWalbCtl,
  decodeWalbVersion,
  emptyCtl,
  encodeStartParam,
  encodeWalbCtl,
  WALB_COMMAND,
  WALB_DISK_DATA_SIZE,
  WALB_DYNAMIC_MINOR,
  WALB_IOCTL,
  WALB_START_PARAM_SIZE,
  type WalbCtl,
  type WalbDiskData,
  type WalbStartParam,
} from "./ctl.ts";

/** The control node of the driver. */
export const WALB_CONTROL_PATH = "/dev/walb/control";

/** Major and minor of a device number as glibc's `major()`/`minor()` split it. */
export function splitDeviceNumber(rdev: number): { major: number; minor: number } {
  const value = BigInt(rdev);
  const major = ((value >> 8n) & 0xfffn) | ((value >> 32n) & ~0xfffn);
  const minor = (value & 0xffn) | ((value >> 12n) & ~0xffn);
  return { major: Number(major & 0xffffffffn), minor: Number(minor & 0xffffffffn) };
}

/**
 * The device numbers of a block device path (`st_rdev`).
 *
 * @throws {WalbDeviceError} ENODEV when the path is not a block device
 */
export async function deviceNumbersOf(path: string): Promise<{ major: number; minor: number }> {
  const stat = await Deno.stat(path);
  if (stat.isBlockDevice !== true || stat.rdev === null) {
    throw new WalbDeviceError(`read device numbers of ${path}`, "ENODEV", "not a block device");
  }
  return splitDeviceNumber(stat.rdev);
}

/** The address of `bytes` as a u64 for `buf` fields (keep `bytes` alive during the call). */
export function bufferAddress(bytes: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)));
}

/**
 * Runs one `walb_ctl` ioctl on an open file and returns the struct the kernel copied back.
 *
 * @throws {WalbDeviceError} with the errno (EFAULT, EBUSY...) and the kernel's `error` value
 */
export function callWalbCtl(file: LibcFile, request: number, ctl: WalbCtl, what: string): WalbCtl {
  const bytes = encodeWalbCtl(ctl);
  try {
    file.ioctl(request, bytes);
  } catch (error) {
    if (!(error instanceof LibcError)) throw error;
    const back = decodeWalbCtl(bytes);
    const code = error.code === "EBUSY" ? "EBUSY" : error.code === "ENOTTY" ? "ENODEV" : "EFAULT";
    throw new WalbDeviceError(what, code, `${error.message}, ctl error ${back.error}`, {
      cause: error,
    });
  }
  return decodeWalbCtl(bytes);
}

function withControl<T>(body: (file: LibcFile) => T): T {
  const file = LibcFile.open(WALB_CONTROL_PATH, { flags: O.RDWR });
  try {
    return body(file);
  } finally {
    file.close();
  }
}

/** START_DEV's result: the effective name and the wdev's numbers. */
export interface StartedDevice {
  name: string;
  major: number;
  minor: number;
}

/**
 * START_DEV (wdevc create-wdev): assembles a kernel WalB device from an ldev and a ddev.
 *
 * @throws {WalbDeviceError} EFAULT with the kernel's error (−3 invalid params, −4/−5 busy,
 *   −6 assembly failed, −7 duplicate name)
 */
export async function startKernelDevice(
  ldevPath: string,
  ddevPath: string,
  param: WalbStartParam,
): Promise<StartedDevice> {
  const ldev = await deviceNumbersOf(ldevPath);
  const ddev = await deviceNumbersOf(ddevPath);
  const input = encodeStartParam(param);
  const output = new Uint8Array(WALB_START_PARAM_SIZE);
  const ctl = emptyCtl(WALB_COMMAND.START_DEV);
  ctl.u2k.lmajor = ldev.major;
  ctl.u2k.lminor = ldev.minor;
  ctl.u2k.dmajor = ddev.major;
  ctl.u2k.dminor = ddev.minor;
  ctl.u2k.wminor = WALB_DYNAMIC_MINOR;
  ctl.u2k.buf = bufferAddress(input);
  ctl.u2k.bufSize = BigInt(input.length);
  ctl.k2u.buf = bufferAddress(output);
  ctl.k2u.bufSize = BigInt(output.length);
  const back = withControl((file) =>
    callWalbCtl(file, WALB_IOCTL.CONTROL, ctl, `start WalB device on ${ldevPath}`)
  );
  return { name: decodeStartParam(output).name, major: back.k2u.wmajor, minor: back.k2u.wminor };
}

/**
 * STOP_DEV (wdevc delete-wdev) of the wdev at `path`.
 *
 * @throws {WalbDeviceError} EBUSY when the device is open and not forced
 */
export async function stopKernelDevice(path: string, force: boolean): Promise<void> {
  const wdev = await deviceNumbersOf(path);
  const ctl = emptyCtl(WALB_COMMAND.STOP_DEV);
  ctl.u2k.wmajor = wdev.major;
  ctl.u2k.wminor = wdev.minor;
  ctl.valInt = force ? 1 : 0;
  withControl((file) => callWalbCtl(file, WALB_IOCTL.CONTROL, ctl, `stop WalB device ${path}`));
}

/** Entries per LIST_DEV call (wdevc's buffer of 32). */
const LIST_BATCH = 32;

/** LIST_DEV, repeated from minor 0 until the kernel returns none (wdevc list). */
export function listKernelDevices(): WalbDiskData[] {
  return withControl((file) => {
    const all: WalbDiskData[] = [];
    let minor0 = 0;
    for (;;) {
      const range = new Uint8Array(Uint32Array.of(minor0, WALB_DYNAMIC_MINOR).buffer);
      const output = new Uint8Array(LIST_BATCH * WALB_DISK_DATA_SIZE);
      const ctl = emptyCtl(WALB_COMMAND.LIST_DEV);
      ctl.u2k.buf = bufferAddress(range);
      ctl.u2k.bufSize = BigInt(range.length);
      ctl.k2u.buf = bufferAddress(output);
      ctl.k2u.bufSize = BigInt(output.length);
      const back = callWalbCtl(file, WALB_IOCTL.CONTROL, ctl, "list WalB devices");
      if (back.valInt <= 0) return all;
      const batch = decodeDiskDataList(output, back.valInt);
      all.push(...batch);
      minor0 = batch[batch.length - 1]!.minor + 2;
    }
  });
}

/** WALB_IOCTL_VERSION on the control node, as `maj.min.patch`. */
export function kernelVersion(): string {
  return withControl((file) => {
    const out = new Uint8Array(4);
    file.ioctl(WALB_IOCTL.VERSION, out);
    const { major, minor, patch } = decodeWalbVersion(new DataView(out.buffer).getUint32(0, true));
    return `${major}.${minor}.${patch}`;
  });
}
