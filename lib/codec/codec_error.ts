/**
 * Shared helpers for codec implementations: errors and output-size checks.
 *
 * @module
 */
import { CorruptDataError } from "../errors.ts";

/**
 * Builds the error a codec throws when its input does not decode.
 *
 * @param name codec name, e.g. "snappy"
 * @param detail what was found
 * @param cause the library error, if any
 * @returns a CorruptDataError with offset -1 (the caller knows the offset; see decompressExact)
 */
export function codecError(name: string, detail: string, cause?: unknown): CorruptDataError {
  return new CorruptDataError(
    `${name} data`,
    -1,
    detail,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Describes a thrown library value in one line (libraries throw strings as well as Errors).
 */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Requires `output` to be exactly `outputSize` bytes.
 *
 * @throws {CorruptDataError} when the size differs
 */
export function requireSize(name: string, output: Uint8Array, outputSize: number): Uint8Array {
  if (output.length !== outputSize) {
    throw codecError(name, `decompressed size is ${output.length}, expected ${outputSize}`);
  }
  return output;
}

/** A plain Uint8Array view of a Node Buffer (or any Uint8Array subclass). */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}
