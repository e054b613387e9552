/**
 * A {@link ByteSource} / {@link ByteSink} over a regular file that reads and writes with
 * synchronous calls. Why: an async Deno file op goes through the blocking thread pool and costs
 * ~50 µs of latency, during which a single-threaded tool sits idle; on page-cache I/O with
 * 1 MiB buffers the synchronous call costs only the copy (measured on wlog-to-wdiff: a third of
 * the wall time was "(idle)" waiting for op_read/op_write). Pipes and terminals keep async I/O.
 *
 * @module
 */
import type { ByteSink, ByteSource } from "./stream.ts";

/**
 * Synchronous adapter of an open file; it does not own the file (closing it is the caller's).
 *
 * @example
 * ```ts
 * import { SyncFile } from "./sync_file.ts";
 * const path = await Deno.makeTempFile();
 * using file = await Deno.open(path, { read: true, write: true });
 * const sync = new SyncFile(file);
 * await sync.write(Uint8Array.of(1, 2, 3));
 * file.seekSync(0, Deno.SeekMode.Start);
 * const buffer = new Uint8Array(8);
 * if (await sync.read(buffer) !== 3) throw new Error("wrong");
 * await Deno.remove(path);
 * ```
 */
export class SyncFile implements ByteSource, ByteSink {
  #file: Deno.FsFile;

  /**
   * Wraps `file`.
   *
   * @param file an open regular file
   */
  constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /**
   * Reads up to `p.length` bytes (one `read(2)`).
   *
   * @param p destination buffer
   * @returns bytes read, or null at the end of the file
   */
  read(p: Uint8Array): Promise<number | null> {
    try {
      return Promise.resolve(this.#file.readSync(p));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Writes some bytes of `p` (one `write(2)`).
   *
   * @param p bytes to write
   * @returns bytes written
   */
  write(p: Uint8Array): Promise<number> {
    try {
      return Promise.resolve(this.#file.writeSync(p));
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/**
 * `file` wrapped in a {@link SyncFile} when it is a regular file, else `file` itself (pipes,
 * terminals and sockets may block for long: they keep async I/O).
 *
 * @param file an open file
 * @returns a source and sink over `file`
 */
export function syncIfRegular(file: Deno.FsFile): ByteSource & ByteSink {
  return file.statSync().isFile ? new SyncFile(file) : file;
}
