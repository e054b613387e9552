/**
 * Finding holes in a sparse regular file with `lseek(SEEK_DATA)`. Why: virt-full-cat reads a
 * base image that is mostly holes (a fresh 2 GiB image in the issue #3 workload); reading them
 * costs a kernel zero-fill and a copy per byte, and writing the zeroes back costs as much again.
 * Knowing a range is a hole lets the caller skip both.
 *
 * @module
 */
import { isFfiAllowed, LibcFile, O } from "../../../ffi/libc.ts";

/**
 * Answers "is this range a hole?" for one regular file, cheaply for increasing offsets (one
 * `lseek` per data region or query past it).
 *
 * @example
 * ```ts
 * import { HoleFinder } from "./data_extents.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.truncate(path, 1 << 20);
 * const finder = HoleFinder.open(path);
 * const hole = finder?.isHole(0, 65536) ?? true;
 * finder?.close();
 * await Deno.remove(path);
 * if (!hole) throw new Error("a truncated file is one hole");
 * ```
 */
export class HoleFinder {
  #file: LibcFile | null;
  /** The last query offset and the first data at or after it (null: none). */
  #queriedFrom = Number.POSITIVE_INFINITY;
  #dataStart: number | null = null;

  private constructor(file: LibcFile) {
    this.#file = file;
  }

  /**
   * Opens `path` read-only.
   *
   * @param path a file path
   * @returns the finder, or null when FFI is not allowed or `path` is not a regular file
   */
  static open(path: string): HoleFinder | null {
    if (!isFfiAllowed() || !Deno.statSync(path).isFile) return null;
    return new HoleFinder(LibcFile.open(path, { flags: O.RDONLY }));
  }

  /**
   * True when `[offsetBytes, offsetBytes + lengthBytes)` holds no data (reads as zeroes).
   * False when it holds data, or may: filesystems without hole tracking report all data.
   *
   * @throws {LibcError} when lseek fails other than by ENXIO
   */
  isHole(offsetBytes: number, lengthBytes: number): boolean {
    if (this.#file === null) return false;
    const cached = offsetBytes >= this.#queriedFrom &&
      (this.#dataStart === null || offsetBytes <= this.#dataStart);
    if (!cached) {
      this.#queriedFrom = offsetBytes;
      this.#dataStart = this.#file.seekDataSync(offsetBytes);
    }
    return this.#dataStart === null || this.#dataStart >= offsetBytes + lengthBytes;
  }

  /** Closes the descriptor. */
  close(): void {
    this.#file?.close();
    this.#file = null;
  }
}
