/**
 * Turns the OS errors of the implementations (LibcError, Deno's errors) into
 * {@link BlockIoError}.
 *
 * @module
 */
import { LibcError } from "../../../ffi/libc.ts";
import {
  type BlockDevice,
  BlockIoError,
  checkRange,
  closedError,
  type InFlight,
  readOnlyError,
} from "./block_device.ts";

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

/** What {@link runDeviceCall} needs to know of the device making the call. */
export interface DeviceCallState {
  device: BlockDevice;
  /** The close record once the device is closed, else undefined. */
  closedBy: Error | undefined;
  inFlight: InFlight;
}

/**
 * The checks and bookkeeping of every call of an FFI-backed device: refuse after close, writes
 * on a read-only device and bad ranges; track the call for `close()`; turn OS errors into
 * {@link BlockIoError} naming the call.
 */
export function runDeviceCall<T>(
  state: DeviceCallState,
  call: { operation: string; offsetBytes: number; lengthBytes: number },
  task: () => Promise<T>,
): Promise<T> {
  const { device } = state;
  const { operation, offsetBytes, lengthBytes } = call;
  try {
    if (state.closedBy !== undefined) {
      throw closedError(operation, device.description, state.closedBy);
    }
    const writes = operation !== "read" && operation !== "flush";
    if (writes && device.readOnly) throw readOnlyError(operation, device.description);
    checkRange(device, { operation, offsetBytes, lengthBytes });
  } catch (error) {
    return Promise.reject(error);
  }
  const description = device.description;
  return state.inFlight.track(
    task().catch((error: unknown) => {
      throw toBlockIoError(error, { operation, description, offsetBytes, lengthBytes });
    }),
  );
}
