/**
 * The packet layer: typed values of the cybozulib serializer (protocol-and-servers.md §1.2)
 * written to and read from one connection, with the original's socket timeouts.
 *
 * Writing: every write method appends to an output buffer; nothing reaches the socket until
 * {@link Packet.flush}. The original issues one `write()` per value and pushes at its flush
 * points (TCP_NODELAY toggles); segment boundaries carry no meaning (§1.1), so we buffer and
 * flush where the original flushes, and always before reading, half-closing or closing.
 *
 * Reading: values are decoded with the shared {@link SerialReader} over the bytes received
 * so far; when it reports a truncated value, more bytes are read (at least the missing count,
 * never past the value's size limit) and decoding restarts from the value's first byte.
 * Every length is checked against a named limit before anything is allocated.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import { LimitExceededError, ProtocolError } from "../errors.ts";
import {
  SerialReader,
  SerialTruncatedError,
  SerialWriter,
  type VarIntType,
} from "../format/serializer/mod.ts";
import { LIMITS } from "../limits.ts";
import type { Conn } from "./conn.ts";
import { ConnectionClosedError } from "./errors.ts";
import { TimedConn } from "./timed_conn.ts";

/** Options of {@link Packet}. */
export interface PacketOptions {
  clock: Clock;
  /** Per-call socket timeout in ms; 0 or absent = none (servers with `-ka`). */
  timeoutMs?: number;
}

const textDecoder = new TextDecoder();

/** Reads at most this many bytes past a value's start when asked to decode a structure. */
const DEFAULT_VALUE_SIZE_MAX = 64 * 1024;

/**
 * Smallest payload {@link Packet.writeBytesHeld} keeps by reference [bytes]: below it the
 * copy is cheaper than one more socket write.
 */
const PACKET_HELD_BYTES_SIZE_MIN = 16 * 1024;

/**
 * Smallest value {@link Packet.readBytes} reads straight from the socket into its result
 * [bytes]: above it, two copies (socket scratch → input buffer → result) cost more than the
 * extra read calls of a smaller value.
 */
const PACKET_DIRECT_READ_SIZE_MIN = 32 * 1024;

/** One connection's typed reader and writer. */
export class Packet {
  readonly #conn: TimedConn;
  #output = new SerialWriter();
  /** Output finished before `#output`, in order: large payloads held without a copy. */
  #segments: Uint8Array[] = [];
  #segmentsSize = 0;
  #input = new Uint8Array(LIMITS.protocolReadChunkSize);
  #start = 0;
  #end = 0;
  #eof = false;
  /** Bytes consumed from the stream so far (offset of the next value). */
  #position = 0;

  constructor(conn: Conn, options: PacketOptions) {
    this.#conn = new TimedConn(conn, options);
  }

  /** Offset of the next value to read in the received stream. */
  get position(): number {
    return this.#position;
  }

  /** The per-call socket timeout in ms (0 = none). */
  get timeoutMs(): number {
    return this.#conn.timeoutMs;
  }

  // ---- writing (buffered until flush) ----

  /** Appends values written by `write` to the output buffer. */
  write(write: (writer: SerialWriter) => void): this {
    write(this.#output);
    return this;
  }

  /** `bool` (1 byte). */
  writeBool(value: boolean): this {
    this.#output.bool(value);
    return this;
  }

  /** `uint8_t` (1 byte, e.g. a StreamControl byte). */
  writeU8(value: number): this {
    this.#output.u8(value);
    return this;
  }

  /** `uint16_t` (2 bytes LE). */
  writeU16(value: number): this {
    this.#output.u16(value);
    return this;
  }

  /** `uint32_t` as `vu32`. */
  writeU32(value: number): this {
    this.#output.u32(value);
    return this;
  }

  /** `uint64_t` as `vu64`. */
  writeU64(value: bigint): this {
    this.#output.u64(value);
    return this;
  }

  /** `size_t` as `vu64`. */
  writeSize(value: number): this {
    this.#output.size(value);
    return this;
  }

  /** `std::string`. */
  writeString(value: string): this {
    this.#output.string(value);
    return this;
  }

  /** `std::vector<std::string>`. */
  writeStringVector(values: readonly string[]): this {
    this.#output.stringVector(values);
    return this;
  }

  /** Raw bytes without a length (UUIDs, hashes, payloads of known size). */
  writeBytes(value: Uint8Array): this {
    this.#output.bytes(value);
    return this;
  }

  /**
   * Raw bytes held by reference until the next flush (no copy into the output buffer): for
   * payloads of many KiB (wdiff packs, full-sync bulks, wlog data), whose copies cost more
   * than the extra socket write. The caller must not modify `value` before the flush; small
   * values are copied as by {@link writeBytes}. The bytes sent are the same.
   */
  writeBytesHeld(value: Uint8Array): this {
    if (value.length < PACKET_HELD_BYTES_SIZE_MIN) return this.writeBytes(value);
    this.#finishOutput();
    this.#segments.push(value);
    this.#segmentsSize += value.length;
    return this;
  }

  #finishOutput(): void {
    if (this.#output.length === 0) return;
    const bytes = this.#output.finish();
    this.#output = new SerialWriter();
    this.#segments.push(bytes);
    this.#segmentsSize += bytes.length;
  }

  /** Bytes written but not flushed yet. */
  get pendingSize(): number {
    return this.#segmentsSize + this.#output.length;
  }

  /** Sends everything buffered. */
  async flush(): Promise<void> {
    this.#finishOutput();
    const segments = this.#segments;
    this.#segments = [];
    this.#segmentsSize = 0;
    for (const bytes of segments) {
      let offset = 0;
      while (offset < bytes.length) offset += await this.#conn.write(bytes.subarray(offset));
    }
  }

  // ---- reading ----

  /** Reads until at least `size` bytes are buffered; false at EOF before that. */
  async #fill(size: number): Promise<boolean> {
    while (this.#end - this.#start < size) {
      if (this.#eof) return false;
      if (this.#start + size > this.#input.length) {
        // Compact, and grow when the value itself is larger than the buffer.
        const buffered = this.#input.subarray(this.#start, this.#end);
        const target = this.#input.length >= size
          ? this.#input
          : new Uint8Array(Math.max(size, this.#input.length * 2));
        target.set(buffered);
        this.#input = target;
        this.#end -= this.#start;
        this.#start = 0;
      }
      const count = await this.#conn.read(this.#input.subarray(this.#end));
      if (count === null) this.#eof = true;
      else this.#end += count;
    }
    return true;
  }

  /**
   * Reads one value with `read` (a {@link SerialReader} callback). Flushes pending output
   * first (the peer may be waiting for it).
   *
   * @param what the value, for errors
   * @param sizeMax most bytes the whole value may take on the wire
   * @throws {ConnectionClosedError} when the peer closed before the value's first byte
   * @throws {CorruptDataError} when the stream ends inside the value or it is malformed
   * @throws {LimitExceededError} when a length is over its limit or the value over `sizeMax`
   * @throws {ProtocolError} on timeouts and connection failures
   */
  async read<T>(
    what: string,
    read: (reader: SerialReader) => T,
    sizeMax: number = DEFAULT_VALUE_SIZE_MAX,
  ): Promise<T> {
    await this.flush();
    for (;;) {
      const view = this.#input.subarray(this.#start, this.#end);
      const reader = new SerialReader(view, { baseOffset: this.#position });
      try {
        const value = read(reader);
        this.#start += reader.position;
        this.#position += reader.position;
        return value;
      } catch (error) {
        if (!(error instanceof SerialTruncatedError)) throw error;
        const neededSize = view.length + error.missingSize;
        if (neededSize > sizeMax) throw new LimitExceededError(what, sizeMax, neededSize);
        if (!(await this.#fill(neededSize))) {
          if (this.#end === this.#start) throw new ConnectionClosedError(what);
          throw error;
        }
      }
    }
  }

  /** `bool` (any non-zero byte is true). */
  readBool(what: string): Promise<boolean> {
    return this.read(what, (r) => r.bool(what));
  }

  /** `uint8_t`. */
  readU8(what: string): Promise<number> {
    return this.read(what, (r) => r.u8(what));
  }

  /** `uint16_t`. */
  readU16(what: string): Promise<number> {
    return this.read(what, (r) => r.u16(what));
  }

  /** `vu32` as a number. */
  readU32(what: string): Promise<number> {
    return this.read(what, (r) => r.u32(what));
  }

  /** `vi32` as a number. */
  readI32(what: string): Promise<number> {
    return this.read(what, (r) => r.i32(what));
  }

  /** `vu64` as a bigint. */
  readU64(what: string): Promise<bigint> {
    return this.read(what, (r) => r.u64(what));
  }

  /** `vi64` as a bigint. */
  readI64(what: string): Promise<bigint> {
    return this.read(what, (r) => r.i64(what));
  }

  /** An integer of any declared type. */
  readVarInt(type: VarIntType, what: string): Promise<bigint> {
    return this.read(what, (r) => r.varInt(type, what));
  }

  /**
   * `size_t` as a number, checked against `limit`.
   *
   * @throws {LimitExceededError} when over `limit`
   */
  readSize(what: string, limit: number): Promise<number> {
    return this.read(what, (r) => r.size(what, limit));
  }

  /**
   * `std::string` (UTF-8), at most `limit` bytes.
   *
   * @throws {LimitExceededError} when the length is over `limit`
   */
  readString(what: string, limit: number = LIMITS.protocolStringSizeMax): Promise<string> {
    return this.read(what, (r) => r.string(what, limit), limit + 9);
  }

  /**
   * `std::vector<std::string>`, element by element: at most `countMax` elements of at most
   * `LIMITS.protocolStringSizeMax` bytes, `sizeMax` string bytes in all.
   *
   * @throws {LimitExceededError} when a count or size is over its limit
   */
  async readStringVector(
    what: string,
    options: { countMax?: number; sizeMax?: number } = {},
  ): Promise<string[]> {
    const countMax = options.countMax ?? LIMITS.protocolStringVectorCountMax;
    const sizeMax = options.sizeMax ?? LIMITS.protocolStringVectorSizeMax;
    const count = await this.readSize(`${what} count`, countMax);
    const items: string[] = [];
    let totalSize = 0;
    for (let i = 0; i < count; i++) {
      const itemLimit = Math.min(LIMITS.protocolStringSizeMax, sizeMax - totalSize);
      const bytes = await this.read(
        what,
        (r) => r.stringBytes(what, itemLimit).slice(),
        itemLimit + 9,
      );
      totalSize += bytes.length;
      items.push(textDecoder.decode(bytes));
    }
    return items;
  }

  /**
   * `n` raw bytes (a copy), `n` checked against `limit` first.
   *
   * @throws {LimitExceededError} when `n` is over `limit`
   */
  async readBytes(n: number, what: string, limit: number): Promise<Uint8Array> {
    if (n > limit) throw new LimitExceededError(what, limit, n);
    if (n < PACKET_DIRECT_READ_SIZE_MIN) {
      return await this.read(what, (r) => r.bytes(n, what).slice(), n);
    }
    const target = new Uint8Array(n);
    await this.readBytesInto(target, what);
    return target;
  }

  /**
   * Fills `target` with the next `target.length` raw bytes: a caller reusing one buffer for
   * many large values saves an allocation (and its zeroing) per value. Values of 32 KiB or
   * more are read straight from the socket into `target`. After a failure the bytes already
   * received are not consumed (a timeout may be retried), but `target` may still receive the
   * bytes of a read left pending: pass a different buffer to the retry.
   *
   * @throws {ConnectionClosedError} when the peer closed before the first byte
   * @throws {CorruptDataError} when the stream ends inside the value
   */
  async readBytesInto(target: Uint8Array, what: string): Promise<void> {
    const n = target.length;
    if (n < PACKET_DIRECT_READ_SIZE_MIN) {
      target.set(await this.read(what, (r) => r.bytes(n, what), n));
      return;
    }
    await this.flush();
    // Large: the buffered part, then the rest read straight into the target.
    let filled = Math.min(n, this.#end - this.#start);
    target.set(this.#input.subarray(this.#start, this.#start + filled));
    this.#start += filled;
    try {
      while (filled < n) {
        const count = this.#eof ? null : await this.#conn.readDirect(target.subarray(filled));
        if (count === null) {
          this.#eof = true;
          if (filled === 0) throw new ConnectionClosedError(what);
          throw new SerialTruncatedError(what, this.#position, n - filled);
        }
        filled += count;
      }
    } catch (error) {
      // Nothing consumed: what arrived goes back in front of the input (a timeout may be
      // retried). The abandoned target may still receive a pending read; TimedConn takes
      // those bytes from it on the next call.
      this.#unread(target.slice(0, filled));
      throw error;
    }
    this.#position += n;
  }

  /** Puts `bytes` back in front of the buffered input. */
  #unread(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const buffered = this.#input.subarray(this.#start, this.#end);
    const input = new Uint8Array(Math.max(this.#input.length, bytes.length + buffered.length));
    input.set(bytes);
    input.set(buffered, bytes.length);
    this.#input = input;
    this.#start = 0;
    this.#end = bytes.length + buffered.length;
  }

  /**
   * Reads one byte and requires end of stream instead (the server half of a Fin close).
   *
   * @throws {ProtocolError} when the peer sent a byte
   */
  async expectEof(what: string): Promise<void> {
    await this.flush();
    if (await this.#fill(1)) {
      throw new ProtocolError(
        `Cannot close the connection after ${what}: the peer sent a byte instead of closing`,
      );
    }
  }

  /** True when the peer closed and every received byte was read. */
  async atEof(): Promise<boolean> {
    await this.flush();
    return !(await this.#fill(1));
  }

  // ---- closing ----

  /** Flushes and shuts down the write side (FIN). */
  async closeWrite(): Promise<void> {
    await this.flush();
    await this.#conn.closeWrite();
  }

  /** Closes the connection without flushing (idempotent). */
  close(): void {
    this.#conn.close();
  }
}
