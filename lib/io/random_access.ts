/**
 * Positional (random-access) byte sources: what the indexed wdiff reader needs, since its
 * index sits at the end of the file. A file-backed one over Deno.FsFile and an in-memory one.
 *
 * @module
 */
import { assert, CorruptDataError } from "../errors.ts";
import type { ByteSource } from "./stream.ts";

/** A byte source of known size read at arbitrary offsets. */
export interface RandomAccessSource {
  /** Size in bytes. */
  readonly size: number;
  /**
   * Reads exactly `length` bytes at `offset` into a new array.
   *
   * @throws {CorruptDataError} when the range passes the end
   */
  readAt(offset: number, length: number): Promise<Uint8Array>;
  /** Releases the underlying resource (no-op for memory). */
  close?(): void;
}

function checkRange(size: number, offset: number, length: number): void {
  assert(Number.isSafeInteger(offset) && offset >= 0, "readAt offset must be a safe integer");
  assert(Number.isSafeInteger(length) && length >= 0, "readAt length must be a safe integer");
  if (offset + length > size) {
    throw new CorruptDataError(
      "file",
      offset,
      `${length} bytes asked but the file ends at ${size}`,
    );
  }
}

/**
 * In-memory random-access source over one byte array.
 *
 * @example
 * ```ts
 * import { MemoryRandomAccess } from "./random_access.ts";
 * const source = new MemoryRandomAccess(Uint8Array.of(1, 2, 3, 4));
 * const bytes = await source.readAt(1, 2);
 * if (bytes[0] !== 2 || bytes[1] !== 3) throw new Error("wrong");
 * ```
 */
export class MemoryRandomAccess implements RandomAccessSource {
  readonly size: number;
  #bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.size = bytes.length;
  }
  readAt(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.size, offset, length);
    return Promise.resolve(this.#bytes.slice(offset, offset + length));
  }
  close(): void {}
}

/** Random-access source over an open Deno.FsFile (its size taken once, at open). */
export class FileRandomAccess implements RandomAccessSource {
  readonly size: number;
  #file: Deno.FsFile;
  constructor(file: Deno.FsFile, size: number) {
    this.#file = file;
    this.size = size;
  }

  /**
   * Opens `path` read-only.
   *
   * @throws {Deno.errors.NotFound} and other open errors
   */
  static async open(path: string): Promise<FileRandomAccess> {
    const file = await Deno.open(path, { read: true });
    try {
      const info = await file.stat();
      return new FileRandomAccess(file, info.size);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  async readAt(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.size, offset, length);
    const bytes = new Uint8Array(length);
    await this.#file.seek(offset, Deno.SeekMode.Start);
    let done = 0;
    while (done < length) {
      const n = await this.#file.read(bytes.subarray(done));
      if (n === null || n === 0) {
        throw new CorruptDataError(
          "file",
          offset + done,
          "file ended early (truncated while reading?)",
        );
      }
      done += n;
    }
    return bytes;
  }

  close(): void {
    this.#file.close();
  }
}

/**
 * Sequential {@link ByteSource} view of a random-access source, from `offset` to the end.
 * Lets stream readers (the sorted wdiff reader) consume a positional source.
 */
export class RandomAccessByteSource implements ByteSource {
  #source: RandomAccessSource;
  #offset: number;
  constructor(source: RandomAccessSource, offset = 0) {
    this.#source = source;
    this.#offset = offset;
  }
  async read(p: Uint8Array): Promise<number | null> {
    const n = Math.min(p.length, this.#source.size - this.#offset);
    if (n <= 0) return null;
    p.set(await this.#source.readAt(this.#offset, n));
    this.#offset += n;
    return n;
  }
}
