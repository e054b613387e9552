/**
 * Block I/O for WalB devices: one {@link BlockDevice} interface over memory, buffered files,
 * O_DIRECT (files and block devices) and a fault-injecting wrapper, plus
 * {@link openBlockDevice} to pick one for a path.
 *
 * @module
 */
export {
  BLOCK_LIMITS,
  type BlockDevice,
  BlockIoError,
  BlockRangeError,
  checkRange,
} from "./block_device.ts";
export { DirectDevice, type DirectDeviceOptions } from "./direct_device.ts";
export {
  type ByteRange,
  type FaultConfig,
  type FaultStats,
  FaultyDevice,
  type FaultyDeviceOptions,
} from "./faulty_device.ts";
export { FileDevice, type FileDeviceOptions } from "./file_device.ts";
export { MemoryDevice, type MemoryDeviceOptions } from "./memory_device.ts";
export { PosixFileDevice, type PosixFileDeviceOptions } from "./posix_file_device.ts";
export { openBlockDevice, type OpenBlockDeviceOptions } from "./open.ts";
