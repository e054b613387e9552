/**
 * Reader half of the cybozulib serializer over a byte array with a position. Every length is
 * checked against its limit and against the bytes that remain before anything is allocated.
 *
 * Stream use (the protocol layer): feed the bytes received so far; a
 * {@link SerialTruncatedError} says that at least `missingSize` more bytes are needed, so the
 * caller reads more and retries from the saved position. {@link varIntPayloadSize} tells how
 * many bytes follow a varint's first byte.
 *
 * @module
 */
import { CorruptDataError, LimitExceededError } from "../../errors.ts";
import { LIMITS } from "../../limits.ts";
import {
  decodeVarInt,
  varIntHeaderAllowed,
  varIntPayloadSize,
  type VarIntType,
  VI32,
  VI64,
  VU32,
  VU64,
} from "./varint.ts";

/** The input ends inside a value: corrupt for a file, "read more" for a stream. */
export class SerialTruncatedError extends CorruptDataError {
  /**
   * Says the input ended inside a value. A file reader reports it as corruption; the
   * protocol layer reads `missingSize` more bytes and decodes again from its saved position.
   *
   * @param what the value being read, e.g. "MetaDiff preamble"
   * @param offset byte offset of the value in its file or stream
   * @param missingSize bytes known to be missing (at least; a varint may need more)
   * @example
   * ```ts
   * import { SerialReader, SerialTruncatedError } from "./reader.ts";
   * try {
   *   new SerialReader(Uint8Array.of(0x11)).u16("preamble");
   *   throw new Error("no error");
   * } catch (error) {
   *   if (!(error instanceof SerialTruncatedError) || error.missingSize !== 1) throw error;
   * }
   * ```
   */
  constructor(
    what: string,
    offset: number,
    /** Bytes that are known to be missing (at least). */
    readonly missingSize: number,
  ) {
    super(what, offset, `input ends, ${missingSize} more bytes needed`);
    this.name = "SerialTruncatedError";
  }
}

const decoder = new TextDecoder();

/** Construction options of {@link SerialReader}. */
export interface SerialReaderInit {
  /** Offset of `bytes[0]` in its file or stream, for error messages (default 0). */
  baseOffset?: number;
}

/**
 * Reads serialized values from `bytes`, advancing {@link position}.
 *
 * @example
 * ```ts
 * import { SerialReader } from "./reader.ts";
 * const r = new SerialReader(Uint8Array.of(0x11, 0x03, 0x81, 0x2c, 0x01));
 * if (r.u16("preamble") !== 0x0311 || r.u64("gid") !== 300n || !r.atEnd) throw new Error("wrong");
 * ```
 */
export class SerialReader {
  readonly #bytes: Uint8Array;
  readonly #baseOffset: number;
  /** Index of the next byte to read in the given array. */
  position = 0;

  /**
   * Reads from `bytes[0]` on; the array is not copied, so it must not change while reading.
   *
   * @param bytes the serialized input
   * @param init `baseOffset`: offset of `bytes[0]` in its file or stream, for error messages
   * @example
   * ```ts
   * import { SerialReader } from "./reader.ts";
   * const r = new SerialReader(Uint8Array.of(1), { baseOffset: 100 });
   * if (r.offset !== 100 || r.remaining !== 1) throw new Error("wrong");
   * ```
   */
  constructor(bytes: Uint8Array, init: SerialReaderInit = {}) {
    this.#bytes = bytes;
    this.#baseOffset = init.baseOffset ?? 0;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#bytes.length - this.position;
  }

  /** True when every byte was read. */
  get atEnd(): boolean {
    return this.position >= this.#bytes.length;
  }

  /** Offset of the next byte in the file or stream. */
  get offset(): number {
    return this.#baseOffset + this.position;
  }

  /** A CorruptDataError at the current offset (for callers' own checks). */
  corrupt(what: string, detail: string, offset = this.offset): CorruptDataError {
    return new CorruptDataError(what, offset, detail);
  }

  #need(n: number, what: string): void {
    if (n > this.remaining) throw new SerialTruncatedError(what, this.offset, n - this.remaining);
  }

  /** `bool`: one byte, any non-zero value is true. */
  bool(what: string): boolean {
    this.#need(1, what);
    return this.#bytes[this.position++] !== 0;
  }

  /** `uint8_t`: one raw byte. */
  u8(what: string): number {
    this.#need(1, what);
    return this.#bytes[this.position++]!;
  }

  /** `uint16_t`: two raw bytes, little-endian. */
  u16(what: string): number {
    this.#need(2, what);
    const value = this.#bytes[this.position]! | (this.#bytes[this.position + 1]! << 8);
    this.position += 2;
    return value;
  }

  /**
   * Reads a structure preamble (u16) and checks it.
   *
   * @throws {CorruptDataError} when it differs from `expected`
   */
  preamble(expected: number, what: string): void {
    const offset = this.offset;
    const value = this.u16(what);
    if (value !== expected) {
      throw new CorruptDataError(
        what,
        offset,
        `preamble is 0x${value.toString(16)}, expected 0x${expected.toString(16)}`,
      );
    }
  }

  /** An integer of declared type `type`, variable-length. */
  varInt(type: VarIntType, what: string): bigint {
    const offset = this.offset;
    this.#need(1, what);
    const header = this.#bytes[this.position]!;
    if (!varIntHeaderAllowed(header, type.width)) {
      throw new CorruptDataError(what, offset, `bad header 0x${header.toString(16)} for 32 bits`);
    }
    const size = varIntPayloadSize(header);
    this.#need(1 + size, what);
    const payload = this.#bytes.subarray(this.position + 1, this.position + 1 + size);
    this.position += 1 + size;
    return decodeVarInt(header, payload, type);
  }

  /** `int32_t`, variable-length. */
  i32(what: string): number {
    return Number(this.varInt(VI32, what));
  }

  /** `uint32_t`, variable-length. */
  u32(what: string): number {
    return Number(this.varInt(VU32, what));
  }

  /** `int64_t`, variable-length. */
  i64(what: string): bigint {
    return this.varInt(VI64, what);
  }

  /** `uint64_t`, variable-length. */
  u64(what: string): bigint {
    return this.varInt(VU64, what);
  }

  /**
   * `size_t` as a number, checked against `limit`.
   *
   * @throws {LimitExceededError} when the value is over `limit`
   */
  size(what: string, limit: number = Number.MAX_SAFE_INTEGER): number {
    const value = this.varInt(VU64, what);
    if (value > BigInt(limit)) throw new LimitExceededError(what, limit, value);
    return Number(value);
  }

  /** `n` raw bytes, as a view into the input (copy it to keep it past the input's life). */
  bytes(n: number, what: string): Uint8Array {
    this.#need(n, what);
    const view = this.#bytes.subarray(this.position, this.position + n);
    this.position += n;
    return view;
  }

  /** `std::string` as raw bytes (a view), length checked against `limit`. */
  stringBytes(what: string, limit: number = LIMITS.serialStringBytesMax): Uint8Array {
    const length = this.size(`${what} length`, limit);
    return this.bytes(length, what);
  }

  /** `std::string` as text (UTF-8, invalid sequences replaced). */
  string(what: string, limit: number = LIMITS.serialStringBytesMax): string {
    return decoder.decode(this.stringBytes(what, limit));
  }

  /** A count of elements that take at least one byte each, checked before allocating. */
  #count(what: string, limit: number): number {
    const count = this.size(`${what} count`, limit);
    this.#need(count, what);
    return count;
  }

  /** `std::vector<T>`: count, then elements read by `readItem`. */
  vector<T>(
    what: string,
    readItem: (reader: SerialReader) => T,
    limit: number = LIMITS.serialVectorCountMax,
  ): T[] {
    const count = this.#count(what, limit);
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(readItem(this));
    return items;
  }

  /** `std::vector<std::string>`. */
  stringVector(what: string, limit: number = LIMITS.serialVectorCountMax): string[] {
    return this.vector(what, (r) => r.string(what), limit);
  }

  /** `std::map<K, V>`: count, then key, value pairs (in the order read). */
  map<K, V>(
    what: string,
    readKey: (reader: SerialReader) => K,
    readValue: (reader: SerialReader) => V,
    limit: number = LIMITS.serialVectorCountMax,
  ): Map<K, V> {
    const count = this.#count(what, limit);
    const map = new Map<K, V>();
    for (let i = 0; i < count; i++) {
      const key = readKey(this);
      map.set(key, readValue(this));
    }
    return map;
  }
}

/**
 * Reads one value with `read` from `bytes`; trailing bytes are ignored, as the original's
 * file readers do.
 *
 * @example
 * ```ts
 * import { deserialize } from "./reader.ts";
 * if (deserialize(Uint8Array.of(2, 0x6f, 0x6b), (r) => r.string("reply")) !== "ok") throw new Error();
 * ```
 */
export function deserialize<T>(bytes: Uint8Array, read: (reader: SerialReader) => T): T {
  return read(new SerialReader(bytes));
}
