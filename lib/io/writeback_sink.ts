/**
 * A {@link ByteSink} over a regular file that must be fdatasync'ed at the end, which starts the
 * disk writes early: after every `intervalBytes` written it begins an `fdatasync` in the
 * background (Deno's blocking pool) while the caller keeps computing and writing. Why: the final
 * fdatasync of wlog-to-wdiff waited 0.12–0.47 s for 170–230 MB of dirty pages after all the
 * work was done (idle time, a fifth to a half of the run); with the writes already on their way,
 * the last sync only waits for the tail.
 *
 * @module
 */
import { BackgroundSync, eventLoopTurn } from "./background_sync.ts";
import type { ByteSink } from "./stream.ts";

/** Bytes written between two background syncs (32 MiB). */
export const WRITEBACK_INTERVAL_BYTES_DEFAULT = 32 * 1024 * 1024;

/**
 * Synchronous writes plus background fdatasync; {@link finish} makes everything durable.
 *
 * @example
 * ```ts
 * import { WritebackSink } from "./writeback_sink.ts";
 * const path = await Deno.makeTempFile();
 * const file = await Deno.open(path, { write: true });
 * const sink = new WritebackSink(file, { intervalBytes: 4 });
 * await sink.write(Uint8Array.of(1, 2, 3, 4, 5));
 * await sink.finish();
 * file.close();
 * if ((await Deno.readFile(path)).length !== 5) throw new Error("wrong");
 * await Deno.remove(path);
 * ```
 */
export class WritebackSink implements ByteSink {
  #file: Deno.FsFile;
  #intervalBytes: number;
  #sinceSync = 0;
  #sync: BackgroundSync;
  #error: unknown;
  #failed = false;

  /**
   * Wraps `file` (not owned: the caller closes it after {@link finish}).
   *
   * @param file an open regular file
   * @param options intervalBytes between background syncs
   */
  constructor(file: Deno.FsFile, options: { intervalBytes?: number } = {}) {
    this.#file = file;
    this.#intervalBytes = options.intervalBytes ?? WRITEBACK_INTERVAL_BYTES_DEFAULT;
    // A failed sync is kept for every later call, from the moment it fails: Linux reports a
    // failed writeback once, so a later fdatasync may succeed although the data never reached
    // the disk.
    this.#sync = new BackgroundSync(() =>
      file.syncData().catch((error) => {
        this.#failed = true;
        this.#error = error;
        throw error;
      })
    );
  }

  /**
   * Writes some bytes of `p` (one `write(2)`), then starts a background sync when due.
   *
   * @returns bytes written
   * @throws the error of an earlier background sync, or of this write
   */
  async write(p: Uint8Array): Promise<number> {
    this.#throwIfFailed();
    const written = this.#file.writeSync(p);
    this.#sinceSync += written;
    if (this.#sinceSync < this.#intervalBytes) return written;
    // Deno settles an async op (the running sync) only in an event loop turn, which a tool
    // doing synchronous writes never reaches: without one turn here, a 268 MB conversion
    // started one background sync and its last, waited-for sync found ~200 MB dirty.
    let started = await this.#sync.tryStart();
    if (!started) {
      await eventLoopTurn();
      started = await this.#sync.tryStart();
    }
    if (started) this.#sinceSync = 0;
    return written;
  }

  /**
   * Waits for a background sync, then fdatasyncs everything written.
   *
   * @throws the error of a background sync or of the final one
   */
  async finish(): Promise<void> {
    await this.settle();
    this.#throwIfFailed();
    await this.#file.syncData();
  }

  /** Waits for a background sync without syncing again (before closing the file). */
  async settle(): Promise<void> {
    await this.#sync.settle().catch(() => {}); // kept: write and finish throw it
  }

  #throwIfFailed(): void {
    if (this.#failed) throw this.#error;
  }
}
