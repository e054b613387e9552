/**
 * Zeroing ranges of a regular file without writing zero pages: `fallocate(ZERO_RANGE)`.
 * Why: `wdiff-redo -z` turns every discard into zeroes; writing them costs a page-cache copy
 * per byte (1.8 GiB for the issue #3 workload, 77 % of the redo's time), while the filesystem
 * can mark the range as reading zero in one call. The file's bytes are the same either way.
 * A range that is already a hole (`lseek(SEEK_DATA)`) is left alone: on ext4 ZERO_RANGE
 * allocates unwritten extents even over holes, which was a quarter of the issue #3 redo's CPU
 * time on a fresh sparse target.
 *
 * @module
 */
import { isFfiAllowed, LibcError, LibcFile, O } from "../../../ffi/libc.ts";

/** Data segments up to this size are zeroed by writing zeroes (when the caller can). */
export const ZERO_WRITE_SIZE_MAX = 64 * 1024;

/**
 * Zeroes ranges of one regular file through a second descriptor (the page cache is shared, so
 * it stays coherent with writes through other descriptors).
 *
 * @example
 * ```ts
 * import { FileRangeZeroer } from "./zero_range.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, new Uint8Array(8192).fill(1));
 * const zeroer = FileRangeZeroer.open(path);
 * const done = zeroer?.zero(0, 4096) ?? false;
 * zeroer?.close();
 * const bytes = await Deno.readFile(path);
 * await Deno.remove(path);
 * if (done && (bytes[0] !== 0 || bytes[4096] !== 1)) throw new Error("wrong");
 * ```
 */
export class FileRangeZeroer {
  #file: LibcFile | null;

  private constructor(file: LibcFile) {
    this.#file = file;
  }

  /**
   * Opens `path` for zeroing.
   *
   * @param path a file path
   * @returns the zeroer, or null when FFI is not allowed or `path` is not a regular file
   */
  static open(path: string): FileRangeZeroer | null {
    if (!isFfiAllowed() || !Deno.statSync(path).isFile) return null;
    return new FileRangeZeroer(LibcFile.open(path, { flags: O.RDWR }));
  }

  /**
   * Makes `[offsetBytes, offsetBytes + lengthBytes)` read as zeroes.
   *
   * @param writeZeroes when given, writes zeroes over data segments of at most
   *   {@link ZERO_WRITE_SIZE_MAX} bytes (cheaper than fallocate for a partly written block)
   *
   * @returns false when the filesystem cannot zero ranges (the caller writes zeroes instead;
   *   later calls return false at once)
   * @throws {LibcError} on other failures
   */
  zero(
    offsetBytes: number,
    lengthBytes: number,
    writeZeroes?: (offsetBytes: number, lengthBytes: number) => void,
  ): boolean {
    if (this.#file === null) return false;
    if (lengthBytes === 0) return true;
    // Only the data segments in the range need zeroing (dirty pages count as data); holes read
    // as zeroes already. Why per segment: a range that starts in a block partly written by the
    // previous record reported data at its start, and ZERO_RANGE then allocated unwritten
    // extents over the whole hole behind it (a fifth of the issue #3 redo's time).
    const end = offsetBytes + lengthBytes;
    let at = offsetBytes;
    while (at < end) {
      const dataStart = this.#file.seekDataSync(at);
      if (dataStart === null || dataStart >= end) return true;
      const dataEnd = Math.min(this.#file.seekHoleSync(dataStart), end);
      if (writeZeroes !== undefined && dataEnd - dataStart <= ZERO_WRITE_SIZE_MAX) {
        // Typically the rest of a block partly written by the previous record: a write of
        // zeroes is a few microseconds, fallocate about 15.
        writeZeroes(dataStart, dataEnd - dataStart);
      } else if (!this.#zeroRange(dataStart, dataEnd - dataStart)) return false;
      at = dataEnd;
    }
    return true;
  }

  #zeroRange(offsetBytes: number, lengthBytes: number): boolean {
    try {
      this.#file!.zeroRangeSync(offsetBytes, lengthBytes);
      return true;
    } catch (error) {
      if (!(error instanceof LibcError) || error.code !== "EOPNOTSUPP") throw error;
      this.close();
      return false;
    }
  }

  /** Closes the descriptor. */
  close(): void {
    this.#file?.close();
    this.#file = null;
  }
}
