/**
 * {@link BlockDevice} with `O_DIRECT` through FFI: bypasses the page cache, as walb-tools does
 * when it reads a wldev (device-and-wlog.md §2.3) and formats an ldev (§2.4).
 *
 * @module
 */
import {
  blockDeviceDiscard,
  blockDeviceLogicalBlockSize,
  blockDevicePhysicalBlockSize,
  blockDeviceSizeBytes,
  blockDeviceZeroOut,
  IOV_MAX,
  isAlignedBytes,
  LibcError,
  LibcFile,
  NativeBuffer,
  O,
  TMPFS_MAGIC,
} from "../../../ffi/libc.ts";
import {
  BLOCK_LIMITS,
  type BlockDevice,
  BlockIoError,
  closedError,
  closeRecord,
  InFlight,
} from "./block_device.ts";
import { runDeviceCall, toBlockIoError } from "./io_error.ts";

/** Options of {@link DirectDevice.open}. */
export interface DirectDeviceOptions {
  /** Open `O_RDONLY` (default false: `O_RDWR`). */
  readOnly?: boolean;
  /** For a regular file: the reported physical block size (default: its O_DIRECT alignment). */
  physicalBlockSize?: number;
}

/** O_DIRECT alignment assumed for a file when statx does not say (safe on every filesystem). */
const FILE_ALIGNMENT_DEFAULT = 4096;

/**
 * O_DIRECT I/O on a block device (a loop device, a disk, an LV) or on a regular file of a
 * filesystem that supports it (ext4, xfs, btrfs; not tmpfs).
 *
 * Alignment: offsets and lengths must be multiples of {@link alignmentBytes}, the logical
 * sector size of a block device (`BLKSSZGET`) or the file's `statx` O_DIRECT unit (4096 when
 * unknown). Data passes through 4096-aligned native bounce buffers of
 * {@link BLOCK_LIMITS}.directChunkSizeBytes, so callers use ordinary Uint8Arrays. Calls run
 * concurrently (positional I/O off the main thread). A file's size is rounded down to the
 * alignment.
 *
 * On block devices `writeZeroes` is `BLKZEROOUT` and `discard` is `BLKDISCARD` (a no-op when
 * the device does not support discard); on files they write zeroes and punch holes.
 */
export class DirectDevice implements BlockDevice {
  #file: LibcFile;
  #isBlockDevice: boolean;
  #pool: NativeBuffer[] = [];
  #inFlight = new InFlight();
  #closed = false;
  #closedBy: Error | undefined;
  #canDiscard = true;
  #sizeBytes: number;

  private constructor(
    file: LibcFile,
    isBlockDevice: boolean,
    sizeBytes: number,
    readonly physicalBlockSize: number,
    readonly alignmentBytes: number,
    readonly readOnly: boolean,
  ) {
    this.#file = file;
    this.#isBlockDevice = isBlockDevice;
    this.#sizeBytes = sizeBytes;
  }

  /** The size at open or at the last {@link refreshSize} [bytes]. */
  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  /** Re-reads the size (BLKGETSIZE64, or the file size rounded down to the alignment). */
  refreshSize(): Promise<number> {
    if (this.#closed) {
      return Promise.reject(closedError("refresh the size of", this.description, this.#closedBy));
    }
    try {
      this.#sizeBytes = this.#isBlockDevice
        ? Number(blockDeviceSizeBytes(this.#file))
        : this.#file.sizeBytes() - this.#file.sizeBytes() % this.alignmentBytes;
    } catch (error) {
      if (!(error instanceof LibcError)) throw error;
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

  /** Whether this is a block device (as opposed to a regular file). */
  get isBlockDevice(): boolean {
    return this.#isBlockDevice;
  }

  /**
   * Opens `path` with `O_DIRECT`.
   *
   * @param path a block device or a regular file
   * @param options read-only mode; physical block size for files
   * @throws {BlockIoError} code EINVAL when the path is on tmpfs or its filesystem refuses
   *   O_DIRECT, or with the errno of `open` (ENOENT, EACCES, EBUSY, ...)
   */
  static async open(path: string, options: DirectDeviceOptions = {}): Promise<DirectDevice> {
    const readOnly = options.readOnly ?? false;
    const stat = await Deno.stat(path);
    if (!stat.isBlockDevice && !stat.isFile) {
      throw new BlockIoError("open", path, "EINVAL", "not a block device or a regular file");
    }
    const file = openDirect(path, { readOnly, isFile: stat.isFile });
    try {
      if (stat.isBlockDevice) {
        const sizeBytes = Number(blockDeviceSizeBytes(file));
        const logical = blockDeviceLogicalBlockSize(file);
        const physical = blockDevicePhysicalBlockSize(file);
        return new DirectDevice(file, true, sizeBytes, physical, logical, readOnly);
      }
      const alignment = fileAlignment(file);
      const sizeBytes = file.sizeBytes() - (file.sizeBytes() % alignment);
      const physical = options.physicalBlockSize ?? Math.max(alignment, 512);
      return new DirectDevice(file, false, sizeBytes, physical, alignment, readOnly);
    } catch (error) {
      file.close();
      if (error instanceof LibcError) {
        throw toBlockIoError(error, { operation: "open", description: path, ...NO_RANGE });
      }
      throw error;
    }
  }

  read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    const target = new Uint8Array(lengthBytes);
    return this.readInto(offsetBytes, target).then(() => target);
  }

  readInto(offsetBytes: number, target: Uint8Array): Promise<void> {
    return this.#run("read", offsetBytes, target.length, async () => {
      await this.#chunked(target.length, async (bounce, position) => {
        await this.#transfer("read", bounce, offsetBytes + position);
        target.set(bounce.bytes, position);
      });
    });
  }

  write(offsetBytes: number, data: Uint8Array): Promise<void> {
    return this.#run("write", offsetBytes, data.length, async () => {
      await this.#chunked(data.length, async (bounce, position) => {
        bounce.bytes.set(data.subarray(position, position + bounce.byteLength));
        await this.#transfer("write", bounce, offsetBytes + position);
      });
    });
  }

  /**
   * Writes the concatenation of `parts` (see {@link BlockDevice.writeGather}): the parts are
   * copied straight into the bounce buffers, never joined first.
   */
  writeGather(offsetBytes: number, parts: readonly Uint8Array[]): Promise<void> {
    let lengthBytes = 0;
    for (const part of parts) lengthBytes += part.length;
    return this.#run("write", offsetBytes, lengthBytes, async () => {
      let done = 0;
      if (this.#canWriteInPlace(parts, lengthBytes)) {
        done = await this.#file.pwritevFrom(parts, offsetBytes, { sync: false });
        if (done === lengthBytes) return;
        // A short write (rare): the rest goes through the bounce buffers below.
        done -= done % this.alignmentBytes;
      }
      let index = 0;
      let within = 0;
      for (let skipped = 0; skipped < done;) {
        const count = Math.min(parts[index]!.length - within, done - skipped);
        skipped += count;
        within += count;
        if (within === parts[index]!.length) {
          index++;
          within = 0;
        }
      }
      await this.#chunked(lengthBytes - done, async (bounce, position) => {
        for (let filled = 0; filled < bounce.byteLength;) {
          const part = parts[index]!;
          const count = Math.min(part.length - within, bounce.byteLength - filled);
          bounce.bytes.set(part.subarray(within, within + count), filled);
          filled += count;
          within += count;
          if (within === part.length) {
            index++;
            within = 0;
          }
        }
        await this.#transfer("write", bounce, offsetBytes + done + position);
      });
    });
  }

  /**
   * Whether a gather write can go straight from `parts` (one `pwritev`, no bounce copy):
   * every part page-aligned in memory (e.g. from `alignedBytes` of ffi/libc.ts), a multiple
   * of the alignment long, and the whole within one device call.
   */
  #canWriteInPlace(parts: readonly Uint8Array[], lengthBytes: number): boolean {
    if (parts.length === 0 || parts.length > IOV_MAX) return false;
    if (lengthBytes > BLOCK_LIMITS.ioSizeMax) return false;
    return parts.every((part) =>
      part.length % this.alignmentBytes === 0 && isAlignedBytes(part, IN_PLACE_MEMORY_ALIGNMENT)
    );
  }

  writeZeroes(offsetBytes: number, lengthBytes: number): Promise<void> {
    return this.#run("zero", offsetBytes, lengthBytes, async () => {
      if (lengthBytes === 0) return;
      if (this.#isBlockDevice) {
        await blockDeviceZeroOut(this.#file, { offsetBytes, lengthBytes });
        return;
      }
      await this.#writeZeroChunks(offsetBytes, lengthBytes);
    });
  }

  discard(offsetBytes: number, lengthBytes: number): Promise<void> {
    return this.#run("discard", offsetBytes, lengthBytes, async () => {
      if (lengthBytes === 0) return;
      if (!this.#canDiscard) {
        if (!this.#isBlockDevice) await this.#writeZeroChunks(offsetBytes, lengthBytes);
        return;
      }
      try {
        if (this.#isBlockDevice) {
          await blockDeviceDiscard(this.#file, { offsetBytes, lengthBytes });
        } else {
          await this.#file.punchHole(offsetBytes, lengthBytes);
        }
      } catch (error) {
        if (!(error instanceof LibcError) || error.code !== "EOPNOTSUPP") throw error;
        // Discard is advisory: a device without it keeps the data, a file gets zeroes.
        this.#canDiscard = false;
        if (!this.#isBlockDevice) await this.#writeZeroChunks(offsetBytes, lengthBytes);
      }
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
    for (const buffer of this.#pool) buffer.free();
    this.#pool = [];
    this.#file.close();
  }

  #run<T>(
    operation: string,
    offsetBytes: number,
    lengthBytes: number,
    task: () => Promise<T>,
  ): Promise<T> {
    return runDeviceCall(
      { device: this, closedBy: this.#closedBy, inFlight: this.#inFlight },
      { operation, offsetBytes, lengthBytes },
      task,
    );
  }

  /** Calls `step(bounce, position)` per chunk, with a bounce buffer of that chunk's length. */
  async #chunked(
    lengthBytes: number,
    step: (bounce: NativeBuffer, position: number) => Promise<void>,
  ): Promise<void> {
    if (lengthBytes === 0) return;
    const buffer = this.#takeBuffer(lengthBytes);
    try {
      for (let position = 0; position < lengthBytes;) {
        const length = Math.min(buffer.byteLength, lengthBytes - position);
        await step(buffer.subarray(0, length), position);
        position += length;
      }
    } finally {
      this.#releaseBuffer(buffer);
    }
  }

  /** One full pread/pwrite of `bounce` at `offsetBytes`, looping over short transfers. */
  async #transfer(
    operation: "read" | "write",
    bounce: NativeBuffer,
    offsetBytes: number,
  ): Promise<void> {
    for (let done = 0; done < bounce.byteLength;) {
      const view = bounce.subarray(done);
      const count = operation === "read"
        ? await this.#file.pread(view, offsetBytes + done)
        : await this.#file.pwrite(view, offsetBytes + done);
      if (count === 0) {
        throw new BlockIoError(operation, this.description, "EIO", "unexpected end of device", {
          offsetBytes: offsetBytes + done,
          lengthBytes: bounce.byteLength - done,
        });
      }
      done += count;
    }
  }

  async #writeZeroChunks(offsetBytes: number, lengthBytes: number): Promise<void> {
    await this.#chunked(lengthBytes, async (bounce, position) => {
      bounce.bytes.fill(0);
      await this.#transfer("write", bounce, offsetBytes + position);
    });
  }

  /**
   * A bounce buffer for a transfer of `lengthBytes`: the usual chunk size, or the large one
   * when the transfer is longer (a log batch of 1 MiB and its pack header is then one write,
   * not two).
   */
  #takeBuffer(lengthBytes: number): NativeBuffer {
    const size = lengthBytes > BLOCK_LIMITS.directChunkSizeBytes
      ? BLOCK_LIMITS.directLargeChunkSizeBytes
      : BLOCK_LIMITS.directChunkSizeBytes;
    const index = this.#pool.findLastIndex((buffer) => buffer.byteLength === size);
    if (index < 0) return NativeBuffer.allocate(size);
    return this.#pool.splice(index, 1)[0]!;
  }

  #releaseBuffer(buffer: NativeBuffer): void {
    if (this.#closed || this.#pool.length >= BLOCK_LIMITS.directPoolBuffersMax) {
      buffer.free();
    } else {
      this.#pool.push(buffer);
    }
  }
}

const NO_RANGE = { offsetBytes: 0, lengthBytes: 0 };

/** Memory alignment asked of parts written in place (a page: enough for any device). */
const IN_PLACE_MEMORY_ALIGNMENT = 4096;

function openDirect(path: string, mode: { readOnly: boolean; isFile: boolean }): LibcFile {
  const flags = (mode.readOnly ? O.RDONLY : O.RDWR) | O.DIRECT;
  let file: LibcFile;
  try {
    file = LibcFile.open(path, { flags });
  } catch (error) {
    if (error instanceof LibcError && error.code === "EINVAL") {
      throw new BlockIoError("open", path, "EINVAL", "the filesystem does not support O_DIRECT", {
        cause: error,
      });
    }
    if (error instanceof LibcError) {
      throw toBlockIoError(error, { operation: "open", description: path, ...NO_RANGE });
    }
    throw error;
  }
  // Only for files: a device node's own filesystem (devtmpfs) says nothing about the device.
  if (mode.isFile && file.fileSystemType() === TMPFS_MAGIC) {
    file.close();
    // Linux 6.6+ accepts O_DIRECT on tmpfs but still goes through memory: refuse, so nobody
    // believes they bypass a cache. Use FileDevice for files in memory.
    throw new BlockIoError(
      "open",
      path,
      "EINVAL",
      "tmpfs has no O_DIRECT (use FileDevice, or a file under /var/tmp)",
    );
  }
  return file;
}

function fileAlignment(file: LibcFile): number {
  const alignment = file.directIoAlignment();
  if (alignment === undefined) return FILE_ALIGNMENT_DEFAULT;
  if (alignment.offsetBytes === 0) {
    throw new BlockIoError("open", file.path, "EINVAL", "the file does not support O_DIRECT");
  }
  // Bounce buffers are 4096-aligned, which covers any memory alignment up to a page.
  return Math.max(alignment.offsetBytes, 512);
}
