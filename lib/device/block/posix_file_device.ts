/**
 * {@link BlockDevice} over a regular file (or a block device through the page cache) with
 * positional I/O through FFI: `pread`/`pwrite` run on Deno's blocking pool, so many calls run
 * at once, and reads the page cache already holds are served on the spot (`preadv2` with
 * `RWF_NOWAIT`).
 *
 * @module
 */
import { IOV_MAX, isFfiAllowed, LibcError, LibcFile, O } from "../../../ffi/libc.ts";
import {
  BLOCK_LIMITS,
  type BlockDevice,
  BlockIoError,
  checkRange,
  closedError,
  closeRecord,
  InFlight,
} from "./block_device.ts";
import { runDeviceCall, toBlockIoError } from "./io_error.ts";

/** Options of {@link PosixFileDevice.open}. */
export interface PosixFileDeviceOptions {
  /** Open read-only (default false). */
  readOnly?: boolean;
  /** Reported physical block size (default 512, what walb-tools assumes for files). */
  physicalBlockSize?: number;
  /**
   * Gather writes up to this size run on the calling thread [bytes] (default 0: every write
   * goes to the blocking pool). A 4 KiB page-cache write there costs ~5 µs of CPU against
   * ~15-25 µs through the pool, but files have no RWF_NOWAIT for buffered writes (EOPNOTSUPP on
   * ext4): a write that waits for the journal or for dirty-page throttling holds the event
   * loop. So once a write here takes over {@link SYNC_WRITE_STALL_MS}, writes go to the pool
   * for {@link SYNC_WRITE_BACKOFF_MS}.
   */
  syncWriteSizeMaxBytes?: number;
}

/**
 * Reads up to this size try the page cache synchronously first [bytes]: copying 64 KiB from
 * the cache takes a few microseconds, less than a round trip through the blocking pool, and
 * bounds how long one read holds the event loop.
 */
const CACHED_READ_SIZE_MAX = 64 * 1024;

/** ArrayBuffers below this size may live in V8's movable heap (libc.ts MOVABLE_SIZE_MAX). */
const MOVABLE_BUFFER_SIZE_MAX = 4096;

/** A synchronous write slower than this [ms] waited for something (journal, throttling). */
const SYNC_WRITE_STALL_MS = 1;

/** Writes of one {@link PosixFileDevice.writeList} `lio_listio` call. */
const WRITE_LIST_SIZE_MAX = 1024;

/** How long writes go to the blocking pool after a stalled synchronous write [ms]. */
const SYNC_WRITE_BACKOFF_MS = 1000;

/**
 * Largest {@link PosixFileDevice.tryReadIntoSync} [bytes]: a 1 MiB copy from the page cache
 * takes ~100 µs on this thread, less CPU than a blocking-pool round trip, and its caller (the
 * NBD server) answers a whole burst of requests with one socket write.
 */
const SYNC_READ_SIZE_MAX = 1024 * 1024;

/**
 * A file as a block device, with concurrent positional I/O. Accepts any offset and length
 * (alignment 1). Calls do not queue behind each other: each read or write is one or more
 * `pread`/`pwrite` calls at its own offset, run off the main thread, so a slow call does not
 * hold up the others. Reads of cached data are answered without leaving the thread.
 * `discard` punches a hole (zeroes are written when the filesystem cannot); `writeZeroes`
 * writes zeroes.
 *
 * Needs FFI permission ({@link isFfiAllowed}); {@link openBlockDevice} falls back to the
 * Deno.FsFile based FileDevice without it.
 *
 * @example
 * ```ts
 * import { PosixFileDevice } from "./posix_file_device.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.truncate(path, 1 << 20);
 * const device = await PosixFileDevice.open(path);
 * await device.write(10, new Uint8Array([42]));
 * await device.flush();
 * if ((await device.read(10, 1))[0] !== 42) throw new Error("not read back");
 * await device.close();
 * await Deno.remove(path);
 * ```
 */
export class PosixFileDevice implements BlockDevice {
  readonly alignmentBytes = 1;
  #file: LibcFile;
  #inFlight = new InFlight();
  #closed = false;
  #closedBy: Error | undefined;
  #canPunch = true;
  #canReadCached = true;
  #sizeBytes: number;
  #syncWriteSizeMaxBytes: number;
  /** Synchronous writes are off until then (performance.now() ms) after a stall. */
  #syncPausedUntilMs = 0;

  private constructor(
    file: LibcFile,
    sizeBytes: number,
    readonly physicalBlockSize: number,
    options: { readOnly: boolean; syncWriteSizeMaxBytes: number },
  ) {
    this.#file = file;
    this.#sizeBytes = sizeBytes;
    this.readOnly = options.readOnly;
    this.#syncWriteSizeMaxBytes = options.syncWriteSizeMaxBytes;
  }

  readonly readOnly: boolean;

  /** The size at open or at the last {@link refreshSize} [bytes]. */
  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  /** Re-reads the file's size (lseek END; a block device's size too). */
  refreshSize(): Promise<number> {
    if (this.#closed) {
      return Promise.reject(closedError("refresh the size of", this.description, this.#closedBy));
    }
    try {
      this.#sizeBytes = this.#file.sizeBytes();
    } catch (error) {
      return Promise.reject(
        toBlockIoError(error, { operation: "size", description: this.description, ...NO_RANGE }),
      );
    }
    return Promise.resolve(this.#sizeBytes);
  }

  /** The path opened. */
  get description(): string {
    return this.#file.path;
  }

  /**
   * Opens an existing file or block device (buffered).
   *
   * @param path the file; its current size is the device size
   * @param options read-only mode and the reported physical block size
   * @throws {BlockIoError} with the errno of `open` (ENOENT, EACCES, EISDIR, ...)
   */
  static open(path: string, options: PosixFileDeviceOptions = {}): Promise<PosixFileDevice> {
    const readOnly = options.readOnly ?? false;
    let file: LibcFile;
    try {
      file = LibcFile.open(path, { flags: readOnly ? O.RDONLY : O.RDWR });
    } catch (error) {
      return Promise.reject(
        toBlockIoError(error, { operation: "open", description: path, ...NO_RANGE }),
      );
    }
    try {
      // lseek(END) also gives the size of a block device, whose stat size is 0.
      const sizeBytes = file.sizeBytes();
      const physical = options.physicalBlockSize ?? 512;
      const syncWriteSizeMaxBytes = options.syncWriteSizeMaxBytes ?? 0;
      return Promise.resolve(
        new PosixFileDevice(file, sizeBytes, physical, { readOnly, syncWriteSizeMaxBytes }),
      );
    } catch (error) {
      file.close();
      return Promise.reject(
        toBlockIoError(error, { operation: "open", description: path, ...NO_RANGE }),
      );
    }
  }

  /** Whether this process may use {@link PosixFileDevice} (FFI allowed). */
  static get available(): boolean {
    return isFfiAllowed();
  }

  read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    const target = new Uint8Array(lengthBytes);
    return this.readInto(offsetBytes, target).then(() => target);
  }

  readInto(offsetBytes: number, target: Uint8Array): Promise<void> {
    return this.#run("read", offsetBytes, target.length, () => this.#readAt(offsetBytes, target));
  }

  /**
   * Reads from the page cache on this thread (`preadv2` with `RWF_NOWAIT`, at most
   * {@link SYNC_READ_SIZE_MAX} bytes): true when all of `target` was cached and read.
   */
  tryReadIntoSync(offsetBytes: number, target: Uint8Array): boolean {
    if (!this.#canReadCached || this.#closed) return false;
    if (target.length === 0 || target.length > SYNC_READ_SIZE_MAX) return false;
    try {
      checkRange(this, { operation: "read", offsetBytes, lengthBytes: target.length });
      const count = this.#file.preadCachedSync(target, offsetBytes);
      if (count === -2) this.#canReadCached = false; // no RWF_NOWAIT here: stop trying
      return count === target.length;
    } catch {
      return false; // readInto reads again and reports the error
    }
  }

  write(offsetBytes: number, data: Uint8Array): Promise<void> {
    return this.#run("write", offsetBytes, data.length, () => this.#writeAt(offsetBytes, data));
  }

  /**
   * One `pwritev` of `parts` (see {@link BlockDevice.writeGather}): on this thread when the
   * whole is at most the `syncWriteSizeMaxBytes` option, else on the blocking pool. Short
   * writes are finished part by part.
   */
  writeGather(offsetBytes: number, parts: readonly Uint8Array[]): Promise<void> {
    let lengthBytes = 0;
    for (const part of parts) lengthBytes += part.length;
    return this.#run(
      "write",
      offsetBytes,
      lengthBytes,
      () => this.#writeGatherAt(offsetBytes, parts, lengthBytes),
    );
  }

  /**
   * Non-overlapping writes as one `lio_listio` (see {@link BlockDevice.writeList}): glibc's AIO
   * thread runs them one after another, so a round of random 4 KiB writes costs the event loop
   * one blocking-pool round trip, not one per write. Short or failed writes are redone one by
   * one (and then report their error).
   */
  writeList(writes: readonly { offsetBytes: number; data: Uint8Array }[]): Promise<void> {
    return this.#run("write", 0, 0, async () => {
      for (const write of writes) {
        checkRange(this, {
          operation: "write",
          offsetBytes: write.offsetBytes,
          lengthBytes: write.data.length,
        });
      }
      const listed: { offsetBytes: number; data: Uint8Array }[] = [];
      const others: { offsetBytes: number; data: Uint8Array }[] = [];
      for (const write of writes) {
        const movable = write.data.buffer.byteLength < MOVABLE_BUFFER_SIZE_MAX;
        (write.data.length === 0 || movable ? others : listed).push(write);
      }
      for (let start = 0; start < listed.length; start += WRITE_LIST_SIZE_MAX) {
        const chunk = listed.slice(start, start + WRITE_LIST_SIZE_MAX);
        const results = await this.#file.pwriteList(chunk);
        for (const [index, write] of chunk.entries()) {
          const done = results[index]!;
          if (done === write.data.length) continue;
          const skip = Math.max(0, done); // short: finish it; failed: redo it
          await this.#writeAt(write.offsetBytes + skip, write.data.subarray(skip));
        }
      }
      for (const write of others) await this.#writeAt(write.offsetBytes, write.data);
    });
  }

  writeZeroes(offsetBytes: number, lengthBytes: number): Promise<void> {
    return this.#run(
      "zero",
      offsetBytes,
      lengthBytes,
      () => this.#zeroAt(offsetBytes, lengthBytes),
    );
  }

  discard(offsetBytes: number, lengthBytes: number): Promise<void> {
    return this.#run("discard", offsetBytes, lengthBytes, async () => {
      if (lengthBytes === 0) return;
      if (this.#canPunch) {
        try {
          await this.#file.punchHole(offsetBytes, lengthBytes);
          return;
        } catch (error) {
          if (!(error instanceof LibcError) || error.code !== "EOPNOTSUPP") throw error;
          this.#canPunch = false; // the filesystem cannot punch holes: zero from now on
        }
      }
      await this.#zeroAt(offsetBytes, lengthBytes);
    });
  }

  flush(): Promise<void> {
    return this.#run("flush", 0, 0, () => this.#file.fdatasync());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closedBy = closeRecord(this.description);
    await this.#inFlight.drain();
    this.#file.close();
  }

  /** Checks a call, then runs it (tracked for close); OS errors become {@link BlockIoError}. */
  #run(
    operation: string,
    offsetBytes: number,
    lengthBytes: number,
    task: () => Promise<void>,
  ): Promise<void> {
    return runDeviceCall(
      { device: this, closedBy: this.#closedBy, inFlight: this.#inFlight },
      { operation, offsetBytes, lengthBytes },
      task,
    );
  }

  async #readAt(offsetBytes: number, target: Uint8Array): Promise<void> {
    let position = 0;
    if (this.#canReadCached && target.length <= CACHED_READ_SIZE_MAX && target.length > 0) {
      const count = this.#file.preadCachedSync(target, offsetBytes);
      if (count >= 0) position = count;
      else if (count === -2) this.#canReadCached = false; // no RWF_NOWAIT here: stop trying
    }
    while (position < target.length) {
      const count = await this.#file.preadInto(target.subarray(position), offsetBytes + position);
      if (count === 0) {
        throw new BlockIoError("read", this.description, "EIO", "file is shorter than before", {
          offsetBytes: offsetBytes + position,
          lengthBytes: target.length - position,
        });
      }
      position += count;
    }
  }

  async #writeAt(offsetBytes: number, data: Uint8Array): Promise<void> {
    for (let position = 0; position < data.length;) {
      const count = await this.#file.pwriteFrom(data.subarray(position), offsetBytes + position);
      if (count === 0) {
        throw new BlockIoError("write", this.description, "EIO", "nothing written", {
          offsetBytes: offsetBytes + position,
          lengthBytes: data.length - position,
        });
      }
      position += count;
    }
  }

  async #writeGatherAt(
    offsetBytes: number,
    parts: readonly Uint8Array[],
    lengthBytes: number,
  ): Promise<void> {
    if (parts.length > IOV_MAX) throw new RangeError(`gather write of more than ${IOV_MAX} parts`);
    const start = performance.now();
    const sync = lengthBytes <= this.#syncWriteSizeMaxBytes && start >= this.#syncPausedUntilMs;
    if (!sync && parts.some((part) => part.buffer.byteLength < MOVABLE_BUFFER_SIZE_MAX)) {
      // A small ArrayBuffer may move: the blocking pool must not see it.
      let position = 0;
      for (const part of parts) {
        await this.#writeAt(offsetBytes + position, part);
        position += part.length;
      }
      return;
    }
    const count = await this.#file.pwritevFrom(parts, offsetBytes, { sync });
    if (sync && performance.now() - start > SYNC_WRITE_STALL_MS) {
      this.#syncPausedUntilMs = performance.now() + SYNC_WRITE_BACKOFF_MS;
    }
    if (count >= lengthBytes) return;
    // Short write: finish the rest with plain writes.
    let position = 0;
    for (const part of parts) {
      const end = position + part.length;
      if (end > count) {
        const skip = Math.max(0, count - position);
        await this.#writeAt(offsetBytes + position + skip, part.subarray(skip));
      }
      position = end;
    }
  }

  async #zeroAt(offsetBytes: number, lengthBytes: number): Promise<void> {
    const zeroes = new Uint8Array(Math.min(lengthBytes, BLOCK_LIMITS.zeroChunkSizeBytes));
    for (let done = 0; done < lengthBytes; done += zeroes.length) {
      const length = Math.min(zeroes.length, lengthBytes - done);
      await this.#writeAt(offsetBytes + done, zeroes.subarray(0, length));
    }
  }
}

const NO_RANGE = { offsetBytes: 0, lengthBytes: 0 };
