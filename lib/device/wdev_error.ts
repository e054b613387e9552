/**
 * The error every {@link WalbDevice} backend throws when the device refuses an operation.
 *
 * @module
 */

/**
 * Why a device operation failed, as the driver's ioctl errno or the engine's code says it:
 * EINVAL, EFAULT, EBUSY, ENOSPC, EROFS, ESHUTDOWN, ETIMEDOUT as in the engine; ENODEV when
 * the path is no WalB device; EEXIST for a duplicate name or a device already in use;
 * EIO for a broken control channel.
 */
export type WalbDeviceErrorCode =
  | "EINVAL"
  | "EFAULT"
  | "EBUSY"
  | "ENOSPC"
  | "EROFS"
  | "ESHUTDOWN"
  | "ETIMEDOUT"
  | "ENODEV"
  | "EEXIST"
  | "EIO";

/**
 * A WalB device operation was refused: "Cannot <operation>: <detail>".
 *
 * @example
 * ```ts
 * import { WalbDeviceError } from "./wdev_error.ts";
 * const error = new WalbDeviceError("resize", "EFAULT", "shrinking from 2048 lb");
 * if (error.message !== "Cannot resize: shrinking from 2048 lb") throw error;
 * ```
 */
export class WalbDeviceError extends Error {
  constructor(
    readonly operation: string,
    readonly code: WalbDeviceErrorCode,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`Cannot ${operation}: ${detail}`, options);
    this.name = "WalbDeviceError";
  }
}
