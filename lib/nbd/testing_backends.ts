/**
 * Backends for tests and benchmarks of the NBD server: one in memory, one over a regular
 * file. Not the WalB device (that one logs writes before applying them).
 *
 * @module
 */
import { assert } from "../errors.ts";
import type { BlockSizes, NbdBackend, WriteOptions, WriteZeroesOptions } from "./backend.ts";
import { NBD_LIMITS } from "./limits.ts";

/** Features of a test backend. */
export interface TestBackendOptions {
  blockSizes?: BlockSizes;
  readOnly?: boolean;
  canTrim?: boolean;
  canWriteZeroes?: boolean;
  /** Implement writeZeroes natively (else the server writes zero buffers). */
  nativeZeroes?: boolean;
  /** Implement tryReadSync (answers every read synchronously; counted in `reads`). */
  syncReads?: boolean;
}

/** Default constraints: 512-byte sectors (WalB's logical block), 4 KiB preferred, 32 MiB max. */
export const TEST_BLOCK_SIZES: BlockSizes = {
  minimum: 512,
  preferred: 4096,
  maximum: NBD_LIMITS.blockSizeMaxDefault,
};

/** Counts of calls, for tests. */
export interface BackendCounters {
  reads: number;
  writes: number;
  flushes: number;
  trims: number;
  zeroes: number;
  fuaWrites: number;
}

function newCounters(): BackendCounters {
  return { reads: 0, writes: 0, flushes: 0, trims: 0, zeroes: 0, fuaWrites: 0 };
}

/**
 * An export held in one byte array.
 *
 * @example
 * ```ts
 * import { MemoryBackend } from "./testing_backends.ts";
 * const backend = new MemoryBackend(4096);
 * await backend.write(512, Uint8Array.of(7), { fua: false });
 * if ((await backend.read(512, 1))[0] !== 7) throw new Error("lost write");
 * ```
 */
export class MemoryBackend implements NbdBackend {
  readonly bytes: Uint8Array;
  readonly blockSizes: BlockSizes;
  readonly readOnly: boolean;
  readonly canTrim: boolean;
  readonly canWriteZeroes: boolean;
  readonly canMultiConn = true;
  readonly counters: BackendCounters = newCounters();
  writeZeroes?: (offset: number, length: number, options: WriteZeroesOptions) => Promise<void>;
  tryReadSync?: (offset: number, target: Uint8Array) => boolean;

  constructor(sizeBytes: number, options: TestBackendOptions = {}) {
    this.bytes = new Uint8Array(sizeBytes);
    if (options.syncReads === true) {
      this.tryReadSync = (offset, target) => {
        this.counters.reads++;
        target.set(this.bytes.subarray(offset, offset + target.length));
        return true;
      };
    }
    this.blockSizes = options.blockSizes ?? TEST_BLOCK_SIZES;
    this.readOnly = options.readOnly ?? false;
    this.canTrim = options.canTrim ?? true;
    this.canWriteZeroes = options.canWriteZeroes ?? true;
    if (options.nativeZeroes === true) {
      this.writeZeroes = (offset, length) => {
        this.counters.zeroes++;
        this.bytes.fill(0, offset, offset + length);
        return Promise.resolve();
      };
    }
  }

  get sizeBytes(): number {
    return this.bytes.length;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    this.counters.reads++;
    return Promise.resolve(this.bytes.slice(offset, offset + length));
  }

  readInto(offset: number, target: Uint8Array): Promise<void> {
    this.counters.reads++;
    target.set(this.bytes.subarray(offset, offset + target.length));
    return Promise.resolve();
  }

  write(offset: number, data: Uint8Array, options: WriteOptions): Promise<void> {
    this.counters.writes++;
    if (options.fua) this.counters.fuaWrites++;
    this.bytes.set(data, offset);
    return Promise.resolve();
  }

  flush(): Promise<void> {
    this.counters.flushes++;
    return Promise.resolve();
  }

  trim(offset: number, length: number): Promise<void> {
    this.counters.trims++;
    this.bytes.fill(0, offset, offset + length);
    return Promise.resolve();
  }
}

/** One handle of the pool with its own file position. */
interface Handle {
  file: Deno.FsFile;
  busy: boolean;
}

/**
 * An export over a regular file. Deno files have no positional I/O, so each call takes a
 * handle from a small pool and seeks it; FUA and flush are fdatasync. Trim writes zeros.
 */
export class FileBackend implements NbdBackend {
  readonly blockSizes: BlockSizes;
  readonly readOnly: boolean;
  readonly canTrim: boolean;
  readonly canWriteZeroes: boolean;
  readonly canMultiConn = true;
  readonly counters: BackendCounters = newCounters();
  #handles: Handle[];
  #waiters: (() => void)[] = [];
  #sizeBytes: number;

  private constructor(handles: Handle[], sizeBytes: number, options: TestBackendOptions) {
    this.#handles = handles;
    this.#sizeBytes = sizeBytes;
    this.blockSizes = options.blockSizes ?? TEST_BLOCK_SIZES;
    this.readOnly = options.readOnly ?? false;
    this.canTrim = options.canTrim ?? true;
    this.canWriteZeroes = options.canWriteZeroes ?? true;
  }

  /**
   * Opens `path`, creating or growing it to `sizeBytes` when given, else using its size.
   *
   * @param options handleCount: files opened for concurrent I/O (default 8)
   */
  static async open(
    path: string,
    options: TestBackendOptions & { sizeBytes?: number; handleCount?: number } = {},
  ): Promise<FileBackend> {
    const readOnly = options.readOnly ?? false;
    const handles: Handle[] = [];
    const count = options.handleCount ?? 8;
    assert(count >= 1, "at least one file handle");
    for (let index = 0; index < count; index++) {
      const file = await Deno.open(path, {
        read: true,
        write: !readOnly,
        create: !readOnly && index === 0,
      });
      handles.push({ file, busy: false });
    }
    const first = handles[0]!.file;
    let sizeBytes = (await first.stat()).size;
    if (options.sizeBytes !== undefined && options.sizeBytes !== sizeBytes) {
      await first.truncate(options.sizeBytes);
      sizeBytes = options.sizeBytes;
    }
    return new FileBackend(handles, sizeBytes, options);
  }

  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  async #withHandle<T>(action: (file: Deno.FsFile) => Promise<T>): Promise<T> {
    let handle = this.#handles.find((candidate) => !candidate.busy);
    while (handle === undefined) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
      handle = this.#handles.find((candidate) => !candidate.busy);
    }
    handle.busy = true;
    try {
      return await action(handle.file);
    } finally {
      handle.busy = false;
      this.#waiters.shift()?.();
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const target = new Uint8Array(length);
    await this.readInto(offset, target);
    return target;
  }

  readInto(offset: number, target: Uint8Array): Promise<void> {
    this.counters.reads++;
    return this.#withHandle(async (file) => {
      await file.seek(offset, Deno.SeekMode.Start);
      let filled = 0;
      while (filled < target.length) {
        const count = await file.read(target.subarray(filled));
        if (count === null) {
          target.fill(0, filled);
          break;
        }
        filled += count;
      }
    });
  }

  async write(offset: number, data: Uint8Array, options: WriteOptions): Promise<void> {
    this.counters.writes++;
    if (options.fua) this.counters.fuaWrites++;
    await this.#withHandle(async (file) => {
      await file.seek(offset, Deno.SeekMode.Start);
      let written = 0;
      while (written < data.length) written += await file.write(data.subarray(written));
      if (options.fua) await file.syncData();
    });
  }

  flush(): Promise<void> {
    this.counters.flushes++;
    return this.#withHandle((file) => file.syncData());
  }

  async trim(offset: number, length: number, options: WriteOptions): Promise<void> {
    this.counters.trims++;
    const chunk = new Uint8Array(Math.min(length, 1024 * 1024));
    for (let done = 0; done < length; done += chunk.length) {
      const size = Math.min(chunk.length, length - done);
      await this.write(offset + done, chunk.subarray(0, size), { fua: false });
    }
    if (options.fua) await this.flush();
  }

  /** Closes every handle. */
  close(): void {
    for (const handle of this.#handles) handle.file.close();
  }
}
