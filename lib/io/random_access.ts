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
  /** Size in bytes (the array's length). */
  readonly size: number;
  #bytes: Uint8Array;
  /**
   * Wraps `bytes` without copying; tests and small files read fully into memory use it.
   *
   * @param bytes the whole content
   */
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.size = bytes.length;
  }
  /**
   * Copies `length` bytes at `offset`.
   *
   * @param offset byte offset, 0 ≤ offset
   * @param length byte count
   * @returns a new array the caller owns
   * @throws {CorruptDataError} when `offset + length` passes the end
   */
  readAt(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.size, offset, length);
    return Promise.resolve(this.#bytes.slice(offset, offset + length));
  }
  /** Nothing to release. */
  close(): void {}
}

/** Random-access source over an open Deno.FsFile (its size taken once, at open). */
export class FileRandomAccess implements RandomAccessSource {
  /** Size in bytes, as given at construction (a file growing later is not seen). */
  readonly size: number;
  #file: Deno.FsFile;
  /** The file's read position after our last read (-1 unknown): a seek there is skipped. */
  #position = -1;
  /**
   * Wraps an open file; prefer {@link FileRandomAccess.open}, which takes the size itself.
   *
   * @param file a file open for reading; this object owns it and closes it in {@link close}
   * @param size the file size in bytes
   * @example
   * ```ts
   * import { FileRandomAccess } from "./random_access.ts";
   * const path = await Deno.makeTempFile();
   * await Deno.writeFile(path, Uint8Array.of(7, 8, 9));
   * const source = new FileRandomAccess(await Deno.open(path), 3);
   * const bytes = await source.readAt(2, 1);
   * source.close();
   * await Deno.remove(path);
   * if (bytes[0] !== 9) throw new Error("wrong");
   * ```
   */
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

  /**
   * Reads exactly `length` bytes at `offset` (seek, then read until done).
   *
   * @param offset byte offset
   * @param length byte count
   * @returns a new array the caller owns
   * @throws {CorruptDataError} when the range passes {@link size}, or the file is shorter
   *   than `size` (truncated while open)
   */
  readAt(offset: number, length: number): Promise<Uint8Array> {
    try {
      const bytes = new Uint8Array(length);
      this.readInto(offset, bytes);
      return Promise.resolve(bytes);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Fills `target` with the bytes at `offset`, synchronously (seek, then read until done):
   * Deno's async seek+read pair costs ~50 µs per call, the sync pair a few µs, and the
   * readers of wdiffs and images call this once per buffer.
   *
   * @param offset byte offset
   * @param target destination; `target.length` bytes are read
   * @throws {CorruptDataError} when the range passes {@link size}, or the file is shorter
   *   than `size` (truncated while open)
   */
  readInto(offset: number, target: Uint8Array): void {
    const length = target.length;
    checkRange(this.size, offset, length);
    // Sequential readers (a sorted wdiff) read where the last read ended: no seek needed.
    if (offset !== this.#position) this.#file.seekSync(offset, Deno.SeekMode.Start);
    this.#position = -1; // unknown until this read completes
    let done = 0;
    while (done < length) {
      const n = this.#file.readSync(target.subarray(done));
      if (n === null || n === 0) {
        throw new CorruptDataError(
          "file",
          offset + done,
          "file ended early (truncated while reading?)",
        );
      }
      done += n;
    }
    this.#position = offset + length;
  }

  /** Closes the file; the object is unusable afterwards. */
  close(): void {
    this.#file.close();
  }
}

/**
 * Sequential {@link ByteSource} view of a random-access source, from `offset` to the end.
 * Lets stream readers (the sorted wdiff reader) consume a positional source.
 *
 * @example
 * ```ts
 * import { MemoryRandomAccess, RandomAccessByteSource } from "./random_access.ts";
 * const stream = new RandomAccessByteSource(new MemoryRandomAccess(Uint8Array.of(1, 2, 3)), 1);
 * const buffer = new Uint8Array(8);
 * if (await stream.read(buffer) !== 2 || buffer[0] !== 2) throw new Error("wrong");
 * if (await stream.read(buffer) !== null) throw new Error("expected the end");
 * ```
 */
export class RandomAccessByteSource implements ByteSource {
  #source: RandomAccessSource;
  #offset: number;
  /**
   * Starts reading at `offset`; does not take ownership (closing `source` is the caller's).
   *
   * @param source the positional source
   * @param offset byte offset of the first byte to read (default 0)
   */
  constructor(source: RandomAccessSource, offset = 0) {
    this.#source = source;
    this.#offset = offset;
  }
  /**
   * Reads up to `p.length` bytes at the current offset and advances past them.
   *
   * @param p destination buffer
   * @returns bytes read, or null at the end of the source
   * @throws {CorruptDataError} when the underlying source is shorter than its size
   */
  async read(p: Uint8Array): Promise<number | null> {
    const n = Math.min(p.length, this.#source.size - this.#offset);
    if (n <= 0) return null;
    if (this.#source instanceof FileRandomAccess) {
      // Straight into the caller's buffer: no intermediate array per read.
      this.#source.readInto(this.#offset, p.subarray(0, n));
    } else {
      p.set(await this.#source.readAt(this.#offset, n));
    }
    this.#offset += n;
    return n;
  }
}
