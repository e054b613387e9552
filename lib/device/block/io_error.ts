/**
 * Turns the OS errors of the implementations (LibcError, Deno's errors) into
 * {@link BlockIoError}.
 *
 * @module
 */
import { LibcError } from "../../../ffi/libc.ts";
import { BlockIoError } from "./block_device.ts";

/**
 * Wraps an OS error as {@link BlockIoError}, keeping it as `cause` and its errno name as
 * `code`. A BlockIoError passes through; anything else (a bug) is rethrown unchanged.
 *
 * @param error what a call threw
 * @param context the operation, the device and the range of the failed call
 * @returns the wrapped error
 * @throws `error` itself when it is not an OS error
 */
export function toBlockIoError(
  error: unknown,
  context: { operation: string; description: string; offsetBytes: number; lengthBytes: number },
): BlockIoError {
  if (error instanceof BlockIoError) return error;
  const { operation, description, offsetBytes, lengthBytes } = context;
  if (error instanceof LibcError) {
    return new BlockIoError(operation, description, error.code, error.message, {
      cause: error,
      offsetBytes,
      lengthBytes,
    });
  }
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  if (error instanceof Error && typeof code === "string") {
    return new BlockIoError(operation, description, code, error.message, {
      cause: error,
      offsetBytes,
      lengthBytes,
    });
  }
  throw error;
}
