/**
 * Typed errors shared by every layer.
 *
 * Bad input is an operating error: a typed error carrying the offending value, with a
 * message "Cannot <what was being done>: <what was found>". A broken invariant is a bug and
 * raises {@link AssertionError} through {@link assert}.
 *
 * @module
 */

/** Input bytes do not follow the format being read. */
export class CorruptDataError extends Error {
  /**
   * @param what the structure being read, e.g. "wdiff pack header"
   * @param offset byte offset of the structure in its file or stream (-1 when unknown)
   * @param detail what was found
   */
  constructor(
    readonly what: string,
    readonly offset: number,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`Cannot read ${what} at offset ${offset}: ${detail}`, options);
    this.name = "CorruptDataError";
  }
}

/** A checksum over input bytes does not verify. */
export class ChecksumMismatchError extends CorruptDataError {
  constructor(
    what: string,
    offset: number,
    readonly actual: number,
    readonly expected: number,
    options?: ErrorOptions,
  ) {
    super(
      what,
      offset,
      `checksum is 0x${actual.toString(16)}, expected 0x${expected.toString(16)}`,
      options,
    );
    this.name = "ChecksumMismatchError";
  }
}

/** A length or count read from input (or asked for) is over a named limit. */
export class LimitExceededError extends RangeError {
  constructor(
    readonly what: string,
    readonly limit: number | bigint,
    readonly actual: number | bigint,
  ) {
    super(`Cannot accept ${what}: ${actual} is over the limit ${limit}`);
    this.name = "LimitExceededError";
  }
}

/** A peer broke the wire protocol. */
export class ProtocolError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
  }
}

/** A user-supplied value (option, argument) is invalid. */
export class UsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** A broken invariant: a bug in this program, never bad input. */
export class AssertionError extends Error {
  constructor(message: string) {
    super(`assertion failed: ${message}`);
    this.name = "AssertionError";
  }
}

/**
 * Throws {@link AssertionError} unless `condition` holds. Stays on in production.
 *
 * @example
 * ```ts
 * import { assert } from "./errors.ts";
 * assert(1 + 1 === 2, "arithmetic works");
 * ```
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/**
 * Converts a u64 read as bigint to a number, refusing values past 2^53 - 1.
 *
 * @throws {LimitExceededError} when the value is not a safe integer
 */
export function toSafeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < 0n) {
    throw new LimitExceededError(what, Number.MAX_SAFE_INTEGER, value);
  }
  return Number(value);
}
