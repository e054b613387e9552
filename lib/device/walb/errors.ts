/**
 * The typed error of the userland WalB engine's control operations and I/O paths.
 *
 * @module
 */

/**
 * Why an engine operation was refused, as the driver's ioctl or bio error would say it:
 *
 * - `EINVAL`: a bad argument (misaligned or out-of-range IO, bad name, bad interval);
 * - `EFAULT`: the operation does not fit the device state (oldest lsid out of range or not at
 *   a pack boundary, shrinking resize, freeze while deep-frozen), like the driver's EFAULT;
 * - `EBUSY`: reset-wal while frozen;
 * - `ENOSPC`: a write would overflow the log and `errorBeforeOverflow` is set;
 * - `EROFS`: the engine turned read-only after an I/O error;
 * - `ESHUTDOWN`: the engine is stopping or stopped;
 * - `ETIMEDOUT`: a wait (clear-wal) timed out.
 */
export type WalbErrorCode =
  | "EINVAL"
  | "EFAULT"
  | "EBUSY"
  | "ENOSPC"
  | "EROFS"
  | "ESHUTDOWN"
  | "ETIMEDOUT";

/**
 * An engine operation failed: "Cannot <operation>: <detail>", with an errno-style code.
 *
 * @example
 * ```ts
 * import { WalbEngineError } from "./errors.ts";
 * const error = new WalbEngineError("set oldest lsid", "EFAULT", "12 is over prev_written 8");
 * if (error.message !== "Cannot set oldest lsid: 12 is over prev_written 8") throw error;
 * ```
 */
export class WalbEngineError extends Error {
  /**
   * @param operation what was being done, e.g. "set oldest lsid"
   * @param code errno-style reason
   * @param detail what was found
   */
  constructor(
    readonly operation: string,
    readonly code: WalbErrorCode,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`Cannot ${operation}: ${detail}`, options);
    this.name = "WalbEngineError";
  }
}
