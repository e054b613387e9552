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
   * Builds "Cannot read <what> at offset <offset>: <detail>". The fields stay readable so
   * callers and tests can check where the input broke without parsing the message.
   *
   * @param what the structure being read, e.g. "wdiff pack header"
   * @param offset byte offset of the structure in its file or stream (-1 when unknown)
   * @param detail what was found
   * @param options `cause` of a lower-level error, when there is one
   * @example
   * ```ts
   * import { CorruptDataError } from "./errors.ts";
   * const error = new CorruptDataError("wdiff pack header", 4096, "bad magic");
   * if (error.message !== "Cannot read wdiff pack header at offset 4096: bad magic") {
   *   throw new Error("wrong");
   * }
   * ```
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
  /**
   * A {@link CorruptDataError} whose detail is "checksum is 0x<actual>, expected
   * 0x<expected>"; both values stay as fields for tests and tools that print them.
   *
   * @param what the structure whose checksum failed, e.g. "logpack header"
   * @param offset byte offset of the structure (-1 when unknown)
   * @param actual the checksum computed over the bytes read (u32)
   * @param expected the value the format requires (usually 0, or the stored field)
   * @param options `cause` of a lower-level error, when there is one
   * @example
   * ```ts
   * import { ChecksumMismatchError, CorruptDataError } from "./errors.ts";
   * const error = new ChecksumMismatchError("logpack header", 0, 0x1f2e, 0);
   * if (!(error instanceof CorruptDataError) || !error.message.endsWith("0x1f2e, expected 0x0")) {
   *   throw new Error("wrong");
   * }
   * ```
   */
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
  /**
   * Builds "Cannot accept <what>: <actual> is over the limit <limit>". Thrown before
   * allocating, so a corrupt length never turns into a huge buffer.
   *
   * @param what the quantity being checked, e.g. "wdiff pack record count"
   * @param limit the named maximum (from lib/limits.ts) or Number.MAX_SAFE_INTEGER
   * @param actual the value found (bigint when it came from a u64 field)
   * @example
   * ```ts
   * import { LimitExceededError } from "./errors.ts";
   * const error = new LimitExceededError("record count", 10, 11);
   * if (error.message !== "Cannot accept record count: 11 is over the limit 10") {
   *   throw new Error("wrong");
   * }
   * ```
   */
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
  /**
   * A protocol violation by the other end (bad message, unexpected reply). Distinct from
   * {@link CorruptDataError} so servers can drop the connection instead of failing a file.
   *
   * @param message what was expected, a colon, then what the peer sent
   * @param options `cause` of a lower-level error, when there is one
   * @example
   * ```ts
   * import { ProtocolError } from "./errors.ts";
   * const error = new ProtocolError("Cannot start session: peer sent version 2");
   * if (error.name !== "ProtocolError") throw new Error("wrong");
   * ```
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
  }
}

/** A user-supplied value (option, argument) is invalid. */
export class UsageError extends Error {
  /**
   * A bad command-line option or argument. cmd/ prints the message (and usually the help)
   * and exits non-zero, without a stack trace.
   *
   * @param message what option or argument was wrong and why
   * @param options `cause` of a lower-level error, when there is one
   * @example
   * ```ts
   * import { UsageError } from "./errors.ts";
   * const error = new UsageError("bad -z value: 0");
   * if (error.message !== "bad -z value: 0") throw new Error("wrong");
   * ```
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** A broken invariant: a bug in this program, never bad input. */
export class AssertionError extends Error {
  /**
   * Prefixes the message with "assertion failed: ". Thrown only by {@link assert}; caught
   * only by cmd/main.ts, which logs it and exits non-zero.
   *
   * @param message the invariant that was expected to hold
   * @example
   * ```ts
   * import { AssertionError } from "./errors.ts";
   * if (new AssertionError("x > 0").message !== "assertion failed: x > 0") throw new Error("wrong");
   * ```
   */
  constructor(message: string) {
    super(`assertion failed: ${message}`);
    this.name = "AssertionError";
  }
}

/**
 * Throws {@link AssertionError} unless `condition` holds. Stays on in production: a broken
 * invariant must stop the program before it writes a wrong image.
 *
 * @param condition the invariant; any falsy value fails
 * @param message the invariant in words, e.g. "record size must be positive"
 * @throws {AssertionError} when `condition` is falsy
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
 * Converts a u64 read as bigint to a number, refusing values past 2^53 - 1. u64 fields (lsid,
 * gid, offsets) are read as bigint; this is the one checked way to use them as numbers.
 *
 * @param value the u64 value
 * @param what the field, for the error message
 * @returns the same value as a number
 * @throws {LimitExceededError} when the value is over Number.MAX_SAFE_INTEGER
 * @throws {RangeError} when the value is negative (a bug: u64 fields are never negative)
 * @example
 * ```ts
 * import { toSafeNumber } from "./errors.ts";
 * if (toSafeNumber(4096n, "offset") !== 4096) throw new Error("wrong");
 * ```
 */
export function toSafeNumber(value: bigint, what: string): number {
  if (value < 0n) throw new RangeError(`Cannot accept ${what}: ${value} is negative`);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new LimitExceededError(what, Number.MAX_SAFE_INTEGER, value);
  }
  return Number(value);
}
