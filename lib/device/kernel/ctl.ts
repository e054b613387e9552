/**
 * The WalB kernel driver's control interface as pure encodings (device-and-wlog.md §6): ioctl
 * numbers, the 120-byte `struct walb_ctl`, its command codes, `walb_start_param`,
 * `walb_disk_data`, and the sysfs `lsids` text.
 *
 * No I/O happens here. No WalB kernel module exists in this environment, so these encodings
 * are tested against the exact bytes and numbers of the spec only; the kernel backend that
 * issues the ioctls (through ffi/) builds on them.
 *
 * @module
 */
import { ior, iowr } from "../../../ffi/ioctl.ts";
import { CorruptDataError, LimitExceededError } from "../../errors.ts";

/** ioctl magic ("type") byte of WalB. */
export const WALB_IOCTL_MAGIC = 0xfe;

/** Size of `struct walb_ctl` (packed). */
export const WALB_CTL_SIZE = 120;
/** Size of `struct walb_ctl_data` (packed): `u2k` at 24 and `k2u` at 72. */
export const WALB_CTL_DATA_SIZE = 48;
/** Size of `struct walb_start_param` (packed), the START_DEV buffer. */
export const WALB_START_PARAM_SIZE = 64;
/** Size of `struct walb_disk_data` (packed), one LIST_DEV element. */
export const WALB_DISK_DATA_SIZE = 40;
/** `u2k.wminor` asking START_DEV to pick the lowest free even minor. */
export const WALB_DYNAMIC_MINOR = 0xffffffff;

/** ioctl request numbers (§6.2), computed from the `_IOC` encoding. */
export const WALB_IOCTL = {
  /** `_IOR(0xFE, 0, u32)` = 0x8004FE00: the kernel writes `(maj << 16) | (min << 8) | patch`. */
  VERSION: ior(WALB_IOCTL_MAGIC, 0, 4),
  /** `_IOWR(0xFE, 1, struct walb_ctl)` = 0xC078FE01, on /dev/walb/control. */
  CONTROL: iowr(WALB_IOCTL_MAGIC, 1, WALB_CTL_SIZE),
  /** `_IOWR(0xFE, 2, struct walb_ctl)` = 0xC078FE02, on /dev/walb/NAME. */
  WDEV: iowr(WALB_IOCTL_MAGIC, 2, WALB_CTL_SIZE),
} as const;

/** `walb_ctl.command` codes (§6.4). 9–15 are obsolete snapshot commands. */
export const WALB_COMMAND = {
  DUMMY: 0,
  START_DEV: 1,
  STOP_DEV: 2,
  GET_MAJOR: 3,
  LIST_DEV: 4,
  NUM_OF_DEV: 5,
  GET_OLDEST_LSID: 6,
  SET_OLDEST_LSID: 7,
  STATUS: 8,
  CREATE_SNAPSHOT: 9,
  DELETE_SNAPSHOT: 10,
  DELETE_SNAPSHOT_RANGE: 11,
  GET_SNAPSHOT: 12,
  NUM_OF_SNAPSHOT_RANGE: 13,
  LIST_SNAPSHOT_RANGE: 14,
  LIST_SNAPSHOT_FROM: 15,
  GET_CHECKPOINT_INTERVAL: 16,
  TAKE_CHECKPOINT: 17,
  SET_CHECKPOINT_INTERVAL: 18,
  GET_WRITTEN_LSID: 19,
  GET_PERMANENT_LSID: 20,
  GET_COMPLETED_LSID: 21,
  GET_LOG_USAGE: 22,
  GET_LOG_CAPACITY: 23,
  IS_FLUSH_CAPABLE: 24,
  RESIZE: 25,
  CLEAR_LOG: 26,
  IS_LOG_OVERFLOW: 27,
  FREEZE: 28,
  MELT: 29,
  IS_FROZEN: 30,
} as const;

/** A command code name, e.g. "GET_OLDEST_LSID". */
export type WalbCommandName = keyof typeof WALB_COMMAND;

/** The name of a command code, or undefined when unknown. */
export function walbCommandName(code: number): WalbCommandName | undefined {
  const entry = Object.entries(WALB_COMMAND).find(([, value]) => value === code);
  return entry?.[0] as WalbCommandName | undefined;
}

/** `struct walb_ctl_data`: device numbers and one user buffer (address and size). */
export interface WalbCtlData {
  wmajor: number;
  wminor: number;
  lmajor: number;
  lminor: number;
  dmajor: number;
  dminor: number;
  /** `buf_size` (size_t). */
  bufSize: bigint;
  /** `buf`: the user buffer's address. */
  buf: bigint;
  /** `kbuf`: kernel use; pass 0. */
  kbuf: bigint;
}

/** `struct walb_ctl`. */
export interface WalbCtl {
  /** A {@link WALB_COMMAND} code (s32). */
  command: number;
  valInt: number;
  valU64: bigint;
  valU32: number;
  /** Command-specific error code set by the kernel (s32). */
  error: number;
  /** User → kernel data. */
  u2k: WalbCtlData;
  /** Kernel → user data. */
  k2u: WalbCtlData;
}

/** A `walb_ctl_data` of zeroes. */
export function emptyCtlData(): WalbCtlData {
  return {
    wmajor: 0,
    wminor: 0,
    lmajor: 0,
    lminor: 0,
    dmajor: 0,
    dminor: 0,
    bufSize: 0n,
    buf: 0n,
    kbuf: 0n,
  };
}

/**
 * A zeroed `walb_ctl` carrying `command`, as walb-tools' helpers build it before setting one
 * of `val_int`, `val_u32` or `val_u64`.
 */
export function emptyCtl(command: number): WalbCtl {
  return {
    command,
    valInt: 0,
    valU64: 0n,
    valU32: 0,
    error: 0,
    u2k: emptyCtlData(),
    k2u: emptyCtlData(),
  };
}

/**
 * Encodes `struct walb_ctl` (120 bytes, little-endian, packed).
 *
 * @param ctl the fields; integers must fit their C types
 * @returns the bytes to pass to `ioctl`
 * @throws {RangeError} when a field does not fit its type
 *
 * @example
 * ```ts
 * import { emptyCtl, encodeWalbCtl, WALB_COMMAND } from "./ctl.ts";
 * const ctl = emptyCtl(WALB_COMMAND.SET_OLDEST_LSID);
 * ctl.valU64 = 1234n;
 * const bytes = encodeWalbCtl(ctl);
 * if (bytes.length !== 120 || bytes[0] !== 7) throw new Error("bad encoding");
 * ```
 */
export function encodeWalbCtl(ctl: WalbCtl): Uint8Array {
  const bytes = new Uint8Array(WALB_CTL_SIZE);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, checkInt(ctl.command, "command", true), true);
  view.setInt32(4, checkInt(ctl.valInt, "val_int", true), true);
  view.setBigUint64(8, checkU64(ctl.valU64, "val_u64"), true);
  view.setUint32(16, checkInt(ctl.valU32, "val_u32", false), true);
  view.setInt32(20, checkInt(ctl.error, "error", true), true);
  encodeCtlData(view, 24, ctl.u2k);
  encodeCtlData(view, 72, ctl.k2u);
  return bytes;
}

/**
 * Decodes `struct walb_ctl` (what the kernel copied back, even on failure).
 *
 * @throws {CorruptDataError} when `bytes` is not 120 bytes long
 */
export function decodeWalbCtl(bytes: Uint8Array): WalbCtl {
  checkLength(bytes, WALB_CTL_SIZE, "walb_ctl");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    command: view.getInt32(0, true),
    valInt: view.getInt32(4, true),
    valU64: view.getBigUint64(8, true),
    valU32: view.getUint32(16, true),
    error: view.getInt32(20, true),
    u2k: decodeCtlData(view, 24),
    k2u: decodeCtlData(view, 72),
  };
}

function encodeCtlData(view: DataView, base: number, data: WalbCtlData): void {
  const u32Fields = [data.wmajor, data.wminor, data.lmajor, data.lminor, data.dmajor, data.dminor];
  const names = ["wmajor", "wminor", "lmajor", "lminor", "dmajor", "dminor"];
  u32Fields.forEach((value, i) => {
    view.setUint32(base + 4 * i, checkInt(value, names[i]!, false), true);
  });
  view.setBigUint64(base + 24, checkU64(data.bufSize, "buf_size"), true);
  view.setBigUint64(base + 32, checkU64(data.buf, "buf"), true);
  view.setBigUint64(base + 40, checkU64(data.kbuf, "kbuf"), true);
}

function decodeCtlData(view: DataView, base: number): WalbCtlData {
  return {
    wmajor: view.getUint32(base, true),
    wminor: view.getUint32(base + 4, true),
    lmajor: view.getUint32(base + 8, true),
    lminor: view.getUint32(base + 12, true),
    dmajor: view.getUint32(base + 16, true),
    dminor: view.getUint32(base + 20, true),
    bufSize: view.getBigUint64(base + 24, true),
    buf: view.getBigUint64(base + 32, true),
    kbuf: view.getBigUint64(base + 40, true),
  };
}

/** `struct walb_start_param`: the START_DEV buffer (§6.3). */
export interface WalbStartParam {
  /** Device name, < 32 bytes of UTF-8 ("" = the super's name, else minor/2). */
  name: string;
  maxPendingMb: number;
  minPendingMb: number;
  queueStopTimeoutMs: number;
  maxLogpackKb: number;
  logFlushIntervalMs: number;
  logFlushIntervalMb: number;
  nPackBulk: number;
  nIoBulk: number;
}

/** wdevc's defaults for `create-wdev` (§6.3 table). */
export const WALB_START_PARAM_DEFAULTS: Readonly<WalbStartParam> = {
  name: "",
  maxPendingMb: 32,
  minPendingMb: 16,
  queueStopTimeoutMs: 100,
  maxLogpackKb: 32,
  logFlushIntervalMs: 100,
  logFlushIntervalMb: 16,
  nPackBulk: 128,
  nIoBulk: 1024,
};

const START_PARAM_FIELDS = [
  "maxPendingMb",
  "minPendingMb",
  "queueStopTimeoutMs",
  "maxLogpackKb",
  "logFlushIntervalMs",
  "logFlushIntervalMb",
  "nPackBulk",
  "nIoBulk",
] as const;

/** Bytes of the `name` fields (char[32], NUL-terminated). */
const NAME_FIELD_SIZE = 32;

/**
 * Encodes `struct walb_start_param` (64 bytes).
 *
 * @throws {LimitExceededError} when the name takes 32 bytes or more
 * @throws {RangeError} when a number is not a u32
 */
export function encodeStartParam(param: WalbStartParam): Uint8Array {
  const bytes = new Uint8Array(WALB_START_PARAM_SIZE);
  const name = new TextEncoder().encode(param.name);
  if (name.length >= NAME_FIELD_SIZE) {
    throw new LimitExceededError("walb device name length", NAME_FIELD_SIZE - 1, name.length);
  }
  bytes.set(name, 0);
  const view = new DataView(bytes.buffer);
  START_PARAM_FIELDS.forEach((field, i) => {
    view.setUint32(32 + 4 * i, checkInt(param[field], field, false), true);
  });
  return bytes;
}

/**
 * Decodes `struct walb_start_param` (the effective parameters START_DEV returns).
 *
 * @throws {CorruptDataError} on a wrong length or a name without NUL
 */
export function decodeStartParam(bytes: Uint8Array): WalbStartParam {
  checkLength(bytes, WALB_START_PARAM_SIZE, "walb_start_param");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const param = { name: decodeName(bytes.subarray(0, NAME_FIELD_SIZE), "walb_start_param") };
  const numbers = Object.fromEntries(
    START_PARAM_FIELDS.map((field, i) => [field, view.getUint32(32 + 4 * i, true)]),
  );
  return { ...param, ...numbers } as WalbStartParam;
}

/** `struct walb_disk_data`: one LIST_DEV entry. */
export interface WalbDiskData {
  /** Kernel disk name, e.g. "walb/vol0". */
  name: string;
  major: number;
  /** The wdev's (even) minor. */
  minor: number;
}

/**
 * Decodes the first `count` `walb_disk_data` entries of a LIST_DEV output buffer.
 *
 * @param bytes the k2u buffer
 * @param count `val_int` as returned by the kernel
 * @throws {CorruptDataError} when the buffer is shorter than `count` entries or a name has no NUL
 */
export function decodeDiskDataList(bytes: Uint8Array, count: number): WalbDiskData[] {
  if (!Number.isSafeInteger(count) || count < 0 || count * WALB_DISK_DATA_SIZE > bytes.length) {
    throw new CorruptDataError(
      "walb_disk_data list",
      0,
      `count ${count} does not fit ${bytes.length} bytes`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const list: WalbDiskData[] = [];
  for (let i = 0; i < count; i++) {
    const base = i * WALB_DISK_DATA_SIZE;
    list.push({
      name: decodeName(bytes.subarray(base, base + NAME_FIELD_SIZE), "walb_disk_data"),
      major: view.getUint32(base + 32, true),
      minor: view.getUint32(base + 36, true),
    });
  }
  return list;
}

/** Splits the VERSION ioctl's u32 into its parts, e.g. 0x00010501 → 1.5.1. */
export function decodeWalbVersion(value: number): { major: number; minor: number; patch: number } {
  return { major: (value >>> 16) & 0xffff, minor: (value >>> 8) & 0xff, patch: value & 0xff };
}

function decodeName(field: Uint8Array, what: string): string {
  const end = field.indexOf(0);
  if (end < 0) throw new CorruptDataError(what, 0, "name has no terminating NUL");
  return new TextDecoder().decode(field.subarray(0, end));
}

function checkLength(bytes: Uint8Array, size: number, what: string): void {
  if (bytes.length !== size) {
    throw new CorruptDataError(what, 0, `length is ${bytes.length}, expected ${size}`);
  }
}

function checkInt(value: number, what: string, signed: boolean): number {
  const [min, max] = signed ? [-0x80000000, 0x7fffffff] : [0, 0xffffffff];
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Cannot encode ${what}: ${value} is outside ${min}..${max}`);
  }
  return value;
}

function checkU64(value: bigint, what: string): bigint {
  if (value < 0n || value > 0xffffffffffffffffn) {
    throw new RangeError(`Cannot encode ${what}: ${value} is not a u64`);
  }
  return value;
}
