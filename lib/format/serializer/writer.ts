/**
 * Writer half of the cybozulib serializer: one method per declared C++ type, so that every
 * field gets the encoding its C++ declaration gives it (wdiff-and-archive.md §12,
 * protocol-and-servers.md §1.2).
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { encodeVarInt, type VarIntType, VI32, VI64, VU32, VU64 } from "./varint.ts";

const encoder = new TextEncoder();

/**
 * Accumulates serialized bytes in a growing buffer.
 *
 * @example
 * ```ts
 * import { SerialWriter } from "./writer.ts";
 * const w = new SerialWriter();
 * w.u16(0x0311);
 * w.u64(5n);
 * w.u64(10n);
 * if (w.finish().join(",") !== "17,3,5,10") throw new Error("wrong");
 * ```
 */
export class SerialWriter {
  #buffer = new Uint8Array(64);
  #length = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  #reserve(n: number): void {
    if (this.#length + n <= this.#buffer.length) return;
    let size = this.#buffer.length * 2;
    while (size < this.#length + n) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = bigger;
  }

  #push(byte: number): void {
    this.#reserve(1);
    this.#buffer[this.#length++] = byte;
  }

  /** `bool`: one byte, 0 or 1. */
  bool(value: boolean): this {
    this.#push(value ? 1 : 0);
    return this;
  }

  /** `uint8_t` / `char`: one raw byte. */
  u8(value: number): this {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xff, "u8 value in range");
    this.#push(value);
    return this;
  }

  /** `uint16_t`: two raw bytes, little-endian (structure preambles, TCP ports). */
  u16(value: number): this {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xffff, "u16 value in range");
    this.#push(value & 0xff);
    this.#push(value >>> 8);
    return this;
  }

  /** An integer of declared type `type`, variable-length. */
  varInt(value: bigint, type: VarIntType): this {
    const bytes = encodeVarInt(value, type);
    this.#reserve(bytes.length);
    for (const byte of bytes) this.#buffer[this.#length++] = byte;
    return this;
  }

  /** `int32_t` / `int`, variable-length. */
  i32(value: number): this {
    assert(Number.isInteger(value), "i32 value is an integer");
    return this.varInt(BigInt(value), VI32);
  }

  /** `uint32_t` / `unsigned`, variable-length. */
  u32(value: number): this {
    assert(Number.isInteger(value), "u32 value is an integer");
    return this.varInt(BigInt(value), VU32);
  }

  /** `int64_t`, variable-length. */
  i64(value: bigint): this {
    return this.varInt(value, VI64);
  }

  /** `uint64_t`, variable-length (gids, lsids, timestamps). */
  u64(value: bigint): this {
    return this.varInt(value, VU64);
  }

  /** `size_t` (lengths, counts, byte sizes), variable-length, from a safe integer. */
  size(value: number): this {
    assert(Number.isSafeInteger(value) && value >= 0, "size value is a safe non-negative integer");
    return this.varInt(BigInt(value), VU64);
  }

  /** Raw bytes, no length prefix (UUIDs, hashes, payloads whose length is known). */
  bytes(value: Uint8Array): this {
    this.#reserve(value.length);
    this.#buffer.set(value, this.#length);
    this.#length += value.length;
    return this;
  }

  /** `std::string` of raw bytes: size_t length, then the bytes. */
  stringBytes(value: Uint8Array): this {
    return this.size(value.length).bytes(value);
  }

  /** `std::string` from text (UTF-8). */
  string(value: string): this {
    return this.stringBytes(encoder.encode(value));
  }

  /** `std::vector<T>` / `std::list<T>`: size_t count, then each element. */
  vector<T>(items: readonly T[], writeItem: (writer: SerialWriter, item: T) => void): this {
    this.size(items.length);
    for (const item of items) writeItem(this, item);
    return this;
  }

  /** `std::vector<std::string>`. */
  stringVector(items: readonly string[]): this {
    return this.vector(items, (w, s) => w.string(s));
  }

  /**
   * `std::map<K, V>`: size_t count, then key, value pairs. The original writes them in key
   * order; the caller passes entries already in that order.
   */
  map<K, V>(
    entries: readonly (readonly [K, V])[],
    writeKey: (writer: SerialWriter, key: K) => void,
    writeValue: (writer: SerialWriter, value: V) => void,
  ): this {
    this.size(entries.length);
    for (const [key, value] of entries) {
      writeKey(this, key);
      writeValue(this, value);
    }
    return this;
  }

  /** The bytes written so far (a copy). */
  finish(): Uint8Array {
    return this.#buffer.slice(0, this.#length);
  }
}

/**
 * Serializes one value with `write` and returns its bytes.
 *
 * @example
 * ```ts
 * import { serialize } from "./writer.ts";
 * const bytes = serialize((w) => w.string("ok"));
 * if (bytes.join(",") !== "2,111,107") throw new Error("wrong");
 * ```
 */
export function serialize(write: (writer: SerialWriter) => void): Uint8Array {
  const writer = new SerialWriter();
  write(writer);
  return writer.finish();
}
