/**
 * {@link BlockDevice} over a regular file through `Deno.FsFile` (buffered, page cache).
 *
 * @module
 */
import { isFfiAllowed, LibcError, LibcFile, O } from "../../../ffi/libc.ts";
import { toBlockIoError } from "./io_error.ts";
import {
  BLOCK_LIMITS,
  type BlockDevice,
  BlockIoError,
  checkRange,
  closedError,
  readOnlyError,
  SerialQueue,
} from "./block_device.ts";

/** Options of {@link FileDevice.open}. */
export interface FileDeviceOptions {
  /** Open read-only (default false). */
  readOnly?: boolean;
  /** Reported physical block size (default 512, what walb-tools assumes for files). */
  physicalBlockSize?: number;
}

/**
 * A file as a block device. Accepts any offset and length (alignment 1). One `Deno.FsFile`
 * handle serves every call, so calls run one at a time (seek, then read or write). `discard`
 * punches a hole through FFI `fallocate` when FFI is allowed and the filesystem can; otherwise
 * it writes zeroes. Either way the range reads as zeroes afterwards.
 *
 * @example
 * ```ts
 * import { FileDevice } from "./file_device.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.truncate(path, 1 << 20);
 * const device = await FileDevice.open(path);
 * await device.write(10, new Uint8Array([42]));
 * await device.flush();
 * if ((await device.read(10, 1))[0] !== 42) throw new Error("not read back");
 * await device.close();
 * await Deno.remove(path);
 * ```
 */
export class FileDevice implements BlockDevice {
  readonly alignmentBytes = 1;
  #file: Deno.FsFile;
  #queue = new SerialQueue();
  #closed = false;
  /** FFI handle for hole punching: opened on first discard; null once found unusable. */
  #punchFile: LibcFile | null | undefined;

  private constructor(
    file: Deno.FsFile,
    readonly description: string,
    readonly sizeBytes: number,
    readonly physicalBlockSize: number,
    readonly readOnly: boolean,
  ) {
    this.#file = file;
  }

  /**
   * Opens an existing file (or a block device, read through the page cache).
   *
   * @param path the file; its current size is the device size
   * @param options read-only mode and the reported physical block size
   * @throws {Deno.errors.NotFound} and the other `Deno.open` errors
   */
  static async open(path: string, options: FileDeviceOptions = {}): Promise<FileDevice> {
    const readOnly = options.readOnly ?? false;
    const file = await Deno.open(path, { read: true, write: !readOnly });
    try {
      // seek(END) also gives the size of a block device, whose stat size is 0.
      const sizeBytes = await file.seek(0, Deno.SeekMode.End);
      return new FileDevice(file, path, sizeBytes, options.physicalBlockSize ?? 512, readOnly);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    const target = new Uint8Array(lengthBytes);
    return this.readInto(offsetBytes, target).then(() => target);
  }

  readInto(offsetBytes: number, target: Uint8Array): Promise<void> {
    return this.#run("read", offsetBytes, target.length, async () => {
      await this.#file.seek(offsetBytes, Deno.SeekMode.Start);
      let position = 0;
      while (position < target.length) {
        const count = await this.#file.read(target.subarray(position));
        if (count === null) {
          throw new BlockIoError("read", this.description, "EIO", "file is shorter than before", {
            offsetBytes: offsetBytes + position,
            lengthBytes: target.length - position,
          });
        }
        position += count;
      }
    });
  }

  write(offsetBytes: number, data: Uint8Array): Promise<void> {
    return this.#run("write", offsetBytes, data.length, () => this.#writeAt(offsetBytes, data));
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
      const punchFile = this.#openPunchFile();
      if (punchFile !== null) {
        try {
          await punchFile.punchHole(offsetBytes, lengthBytes);
          return;
        } catch (error) {
          if (!(error instanceof LibcError) || error.code !== "EOPNOTSUPP") throw error;
          this.#punchFile = null; // the filesystem cannot punch holes: zero from now on
          punchFile.close();
        }
      }
      await this.#zeroAt(offsetBytes, lengthBytes);
    });
  }

  flush(): Promise<void> {
    return this.#run("flush", 0, 0, () => this.#file.syncData());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.run(() => Promise.resolve()); // let queued calls finish
    this.#file.close();
    this.#punchFile?.close();
    this.#punchFile = null;
  }

  /** Checks a call, then queues it; I/O errors become {@link BlockIoError}. */
  #run<T>(
    operation: string,
    offsetBytes: number,
    lengthBytes: number,
    task: () => Promise<T>,
  ): Promise<T> {
    try {
      if (this.#closed) throw closedError(operation, this.description);
      const writes = operation !== "read" && operation !== "flush";
      if (writes && this.readOnly) throw readOnlyError(operation, this.description);
      checkRange(this, { operation, offsetBytes, lengthBytes });
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#queue.run(async () => {
      try {
        return await task();
      } catch (error) {
        throw toBlockIoError(error, {
          operation,
          description: this.description,
          offsetBytes,
          lengthBytes,
        });
      }
    });
  }

  async #writeAt(offsetBytes: number, data: Uint8Array): Promise<void> {
    await this.#file.seek(offsetBytes, Deno.SeekMode.Start);
    let position = 0;
    while (position < data.length) position += await this.#file.write(data.subarray(position));
  }

  async #zeroAt(offsetBytes: number, lengthBytes: number): Promise<void> {
    const zeroes = new Uint8Array(Math.min(lengthBytes, BLOCK_LIMITS.zeroChunkSizeBytes));
    for (let done = 0; done < lengthBytes; done += zeroes.length) {
      const length = Math.min(zeroes.length, lengthBytes - done);
      await this.#writeAt(offsetBytes + done, zeroes.subarray(0, length));
    }
  }

  #openPunchFile(): LibcFile | null {
    if (this.#punchFile === undefined) {
      this.#punchFile = isFfiAllowed() ? LibcFile.open(this.description, { flags: O.RDWR }) : null;
    }
    return this.#punchFile;
  }
}
