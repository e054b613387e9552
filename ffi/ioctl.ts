/**
 * Linux `_IOC` ioctl request encoding (x86-64, the asm-generic layout) and the block-device
 * ioctl numbers of `<linux/fs.h>`. Pure arithmetic: no FFI is loaded by this module.
 *
 * The request number packs four fields: `dir` (2 bits, at 30), `size` (14 bits, at 16),
 * `type` (8 bits, at 8) and `nr` (8 bits, at 0). `_IOR` means the kernel writes the argument
 * (dir = read = 2), `_IOW` that it reads it (dir = write = 1).
 *
 * @module
 */

/** `_IOC_NONE`: no data is transferred. */
export const IOC_NONE = 0;
/** `_IOC_WRITE`: user space writes, the kernel reads the argument. */
export const IOC_WRITE = 1;
/** `_IOC_READ`: the kernel writes the argument back to user space. */
export const IOC_READ = 2;

const IOC_SIZE_MAX = (1 << 14) - 1;

/**
 * Builds an ioctl request number as the kernel's `_IOC(dir, type, nr, size)` macro does.
 *
 * @param dir {@link IOC_NONE}, {@link IOC_WRITE}, {@link IOC_READ} or their sum
 * @param fields the ioctl `type` (magic byte), `nr` (command byte) and argument `sizeBytes`
 * @returns the request as an unsigned 32-bit number
 * @throws {RangeError} when a field does not fit its bit width
 *
 * @example
 * ```ts
 * import { ioc, IOC_READ } from "./ioctl.ts";
 * if (ioc(IOC_READ, { type: 0x12, nr: 114, sizeBytes: 8 }) !== 0x80081272) throw new Error();
 * ```
 */
export function ioc(dir: number, fields: { type: number; nr: number; sizeBytes: number }): number {
  const { type, nr, sizeBytes } = fields;
  checkField("ioctl dir", dir, 3);
  checkField("ioctl type", type, 0xff);
  checkField("ioctl nr", nr, 0xff);
  checkField("ioctl size", sizeBytes, IOC_SIZE_MAX);
  // `>>> 0` keeps the result unsigned when dir sets bit 31.
  return ((dir << 30) | (sizeBytes << 16) | (type << 8) | nr) >>> 0;
}

/** `_IO(type, nr)`: an ioctl without an argument (or with a value argument). */
export function io(type: number, nr: number): number {
  return ioc(IOC_NONE, { type, nr, sizeBytes: 0 });
}

/** `_IOR(type, nr, T)`: the kernel writes a `sizeBytes`-byte argument. */
export function ior(type: number, nr: number, sizeBytes: number): number {
  return ioc(IOC_READ, { type, nr, sizeBytes });
}

/** `_IOW(type, nr, T)`: the kernel reads a `sizeBytes`-byte argument. */
export function iow(type: number, nr: number, sizeBytes: number): number {
  return ioc(IOC_WRITE, { type, nr, sizeBytes });
}

/** `_IOWR(type, nr, T)`: the kernel reads and writes back a `sizeBytes`-byte argument. */
export function iowr(type: number, nr: number, sizeBytes: number): number {
  return ioc(IOC_READ | IOC_WRITE, { type, nr, sizeBytes });
}

/** Splits a request number into its `_IOC` fields (for messages and tests). */
export function decodeIoc(request: number): {
  dir: number;
  type: number;
  nr: number;
  sizeBytes: number;
} {
  return {
    dir: (request >>> 30) & 3,
    sizeBytes: (request >>> 16) & IOC_SIZE_MAX,
    type: (request >>> 8) & 0xff,
    nr: request & 0xff,
  };
}

function checkField(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`Cannot encode ${what}: ${value} is outside 0..${max}`);
  }
}

/** Block-device ioctls of `<linux/fs.h>` (magic 0x12). */
export const BLOCK_IOCTL = {
  /** `_IO(0x12, 97)`: flush the buffer cache of the device. */
  BLKFLSBUF: io(0x12, 97),
  /** `_IO(0x12, 104)`: logical sector size, written as an `int`. */
  BLKSSZGET: io(0x12, 104),
  /** `_IOR(0x12, 114, size_t)`: device size in bytes, written as a u64. */
  BLKGETSIZE64: ior(0x12, 114, 8),
  /** `_IO(0x12, 119)`: discard the byte range `uint64_t[2] = {offset, length}`. */
  BLKDISCARD: io(0x12, 119),
  /** `_IO(0x12, 123)`: physical block size, written as an `unsigned int`. */
  BLKPBSZGET: io(0x12, 123),
  /** `_IO(0x12, 127)`: write zeroes over the byte range `uint64_t[2] = {offset, length}`. */
  BLKZEROOUT: io(0x12, 127),
} as const;
