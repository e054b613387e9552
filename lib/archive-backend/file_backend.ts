/**
 * The file backend: every image is a sparse file named as its LV in one directory
 * (`-images DIR`, default `<base>/_images`). Snapshots are sparse copies: with FFI, the data
 * extents of the origin (SEEK_DATA/SEEK_HOLE) copied in the kernel by `copy_file_range` (its
 * holes stay holes); without FFI, or where the filesystem refuses it, a copy through memory in
 * which all-zero 1 MiB chunks stay holes. Sizes are exact (no extent rounding).
 *
 * @module
 */
import { assert } from "../errors.ts";
import {
  type BlockDevice,
  BlockIoError,
  DirectDevice,
  FileDevice,
  PosixFileDevice,
} from "../device/block/mod.ts";
import type {
  ArchiveBackend,
  DataExtent,
  ImageInfo,
  OpenOptions,
  SnapshotOptions,
} from "./backend.ts";
import { parseImageName } from "./names.ts";
import { copyFileRange, isCopyRangeUnsupported } from "../../ffi/copy_range.ts";
import { isFfiAllowed, LibcFile, O } from "../../ffi/libc.ts";
import { BackgroundSync } from "../io/background_sync.ts";

/** Bytes copied per step by snapshot copies through memory (all-zero steps become holes). */
const COPY_CHUNK_BYTES = 1 << 20;

/**
 * Bytes per `copy_file_range` call of a snapshot: large enough that the per-call cost vanishes,
 * small enough that one call does not hold a blocking-pool thread for long.
 */
const COPY_RANGE_BYTES = 64 << 20;

/** Images as sparse files in a directory. */
export class FileBackend implements ArchiveBackend {
  readonly kind = "file";
  readonly thinPool = "";

  /** @param location the image directory (must exist) */
  constructor(readonly location: string) {}

  path(name: string): string {
    assert(!name.includes("/") && name !== "" && name !== "." && name !== "..", "image name");
    return `${this.location}/${name}`;
  }

  async list(): Promise<ImageInfo[]> {
    const out: ImageInfo[] = [];
    for await (const entry of Deno.readDir(this.location)) {
      if (!entry.isFile || parseImageName(entry.name) === undefined) continue;
      let sizeBytes: number;
      try {
        sizeBytes = (await Deno.stat(this.path(entry.name))).size;
      } catch (error) {
        // Renamed or removed since readDir read it (a restore renaming its `_tmp` image):
        // it is not an image of this listing.
        if (error instanceof Deno.errors.NotFound) continue;
        throw error;
      }
      out.push({ name: entry.name, sizeBytes });
    }
    return out.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  async exists(name: string): Promise<boolean> {
    try {
      return (await Deno.stat(this.path(name))).isFile;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  }

  async sizeBytes(name: string): Promise<number> {
    return (await Deno.stat(this.path(name))).size;
  }

  async create(name: string, sizeBytes: number): Promise<void> {
    assert(Number.isSafeInteger(sizeBytes) && sizeBytes >= 0, "image size");
    const file = await Deno.open(this.path(name), { write: true, createNew: true, mode: 0o644 });
    try {
      await file.truncate(sizeBytes);
      await file.sync();
    } finally {
      file.close();
    }
    await this.#syncDir();
  }

  async resize(name: string, sizeBytes: number): Promise<void> {
    const current = await this.sizeBytes(name);
    if (sizeBytes < current) {
      throw new RangeError(`Cannot resize image ${name}: shrinking ${current} to ${sizeBytes}`);
    }
    await Deno.truncate(this.path(name), sizeBytes);
  }

  async remove(name: string): Promise<void> {
    await Deno.remove(this.path(name));
    await this.#syncDir();
  }

  async rename(from: string, to: string): Promise<void> {
    if (await this.exists(to)) throw new Deno.errors.AlreadyExists(`image ${to} exists`);
    await Deno.rename(this.path(from), this.path(to));
    await this.#syncDir();
  }

  async snapshot(origin: string, name: string, options: SnapshotOptions = {}): Promise<void> {
    const originSize = await this.sizeBytes(origin);
    const sizeBytes = options.sizeBytes ?? originSize;
    const copyBytes = Math.min(originSize, sizeBytes);
    const target = await Deno.open(this.path(name), { write: true, createNew: true });
    try {
      try {
        await target.truncate(sizeBytes);
        const copied = isFfiAllowed() && await this.#copyExtents(origin, name, copyBytes);
        if (!copied) await this.#copyChunks(origin, target, copyBytes);
        await target.sync();
      } finally {
        target.close();
      }
    } catch (error) {
      await Deno.remove(this.path(name)).catch(() => {});
      throw error;
    }
    await this.#syncDir();
  }

  /** Data extents from SEEK_DATA/SEEK_HOLE (with FFI; undefined without). */
  dataExtents(name: string): Promise<DataExtent[] | undefined> {
    if (!isFfiAllowed()) return Promise.resolve(undefined);
    try {
      return Promise.resolve(this.#dataExtentsSync(name));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #dataExtentsSync(name: string): DataExtent[] {
    const file = LibcFile.open(this.path(name), { flags: O.RDONLY });
    try {
      const sizeBytes = file.sizeBytes();
      const extents: DataExtent[] = [];
      for (let offset = 0; offset < sizeBytes;) {
        const start = file.seekDataSync(offset);
        if (start === null || start >= sizeBytes) break;
        const end = Math.min(file.seekHoleSync(start), sizeBytes);
        extents.push({ offsetBytes: start, lengthBytes: end - start });
        offset = end;
      }
      return extents;
    } finally {
      file.close();
    }
  }

  /**
   * Copies the data extents of `origin` below `copyBytes` into `name` with `copy_file_range`
   * (in the kernel; holes are skipped, found with SEEK_DATA/SEEK_HOLE).
   *
   * @returns false when this filesystem cannot do it (the caller copies through memory)
   */
  async #copyExtents(origin: string, name: string, copyBytes: number): Promise<boolean> {
    const source = LibcFile.open(this.path(origin), { flags: O.RDONLY });
    try {
      const target = LibcFile.open(this.path(name), { flags: O.WRONLY });
      try {
        // The caller's sync then finds the copy mostly on disk already.
        const writeback = new BackgroundSync(() => target.fdatasync());
        let copied: boolean;
        try {
          copied = await this.#copyExtentsTo(source, target, writeback, copyBytes);
        } catch (error) {
          await writeback.settle().catch(() => {}); // before closing; the copy failed anyway
          throw error;
        }
        await writeback.settle();
        return copied;
      } finally {
        target.close();
      }
    } finally {
      source.close();
    }
  }

  /** The copy loop of `#copyExtents`, with a background sync after every chunk copied. */
  async #copyExtentsTo(
    source: LibcFile,
    target: LibcFile,
    writeback: BackgroundSync,
    copyBytes: number,
  ): Promise<boolean> {
    let offset = 0;
    while (offset < copyBytes) {
      const dataStart = source.seekDataSync(offset);
      if (dataStart === null || dataStart >= copyBytes) break;
      const dataEnd = Math.min(source.seekHoleSync(dataStart), copyBytes);
      for (let at = dataStart; at < dataEnd;) {
        const length = Math.min(COPY_RANGE_BYTES, dataEnd - at);
        let count: number;
        try {
          count = await copyFileRange(source, at, target, at, length);
        } catch (error) {
          if (isCopyRangeUnsupported(error)) return false;
          throw error;
        }
        if (count === 0) {
          throw new Error(`Cannot copy image ${source.path}: short read at ${at}`);
        }
        at += count;
        await writeback.tryStart();
      }
      offset = dataEnd;
    }
    return true;
  }

  /** Copies `origin` below `copyBytes` through memory; all-zero chunks stay holes. */
  async #copyChunks(origin: string, target: Deno.FsFile, copyBytes: number): Promise<void> {
    const source = await Deno.open(this.path(origin), { read: true });
    try {
      const chunk = new Uint8Array(COPY_CHUNK_BYTES);
      for (let offset = 0; offset < copyBytes; offset += COPY_CHUNK_BYTES) {
        const length = Math.min(COPY_CHUNK_BYTES, copyBytes - offset);
        const view = chunk.subarray(0, length);
        await source.seek(offset, Deno.SeekMode.Start);
        let filled = 0;
        while (filled < length) {
          const n = await source.read(view.subarray(filled));
          if (n === null) throw new Error(`Cannot copy image ${origin}: short read at ${offset}`);
          filled += n;
        }
        if (isAllZero(view)) continue;
        await target.seek(offset, Deno.SeekMode.Start);
        let written = 0;
        while (written < length) written += await target.write(view.subarray(written));
      }
    } finally {
      source.close();
    }
  }

  /**
   * Opens an image: with positional I/O through FFI (`pread`/`pwrite` off the main thread, one
   * call per request instead of a seek and a write) when FFI is allowed, else through
   * Deno.FsFile. Calls of the FFI device do not queue behind each other: callers await each
   * write (apply) or never overlap the writes they have in flight (full sync).
   *
   * With `direct`, the image is opened with `O_DIRECT` where the filesystem allows it with an
   * alignment of at most 512 bytes (else buffered, as without it): large
   * sequential transfers then skip the page cache, whose fresh pages can cost more than the
   * disk (see docs/performance.md), and leave it to the data that is read again.
   */
  async open(name: string, options: OpenOptions = {}): Promise<BlockDevice> {
    const readOnly = options.readOnly ?? false;
    if (!PosixFileDevice.available) return await FileDevice.open(this.path(name), { readOnly });
    if (options.direct === true) {
      const direct = await this.#openDirect(name, readOnly);
      if (direct !== undefined) return direct;
    }
    return await PosixFileDevice.open(this.path(name), { readOnly });
  }

  /** `O_DIRECT`, or undefined where it cannot cover the whole image (then: buffered). */
  async #openDirect(name: string, readOnly: boolean): Promise<BlockDevice | undefined> {
    let device: DirectDevice;
    try {
      device = await DirectDevice.open(this.path(name), { readOnly });
    } catch (error) {
      if (error instanceof BlockIoError && error.code === "EINVAL") return undefined;
      throw error;
    }
    // Every archive transfer is a multiple of 512 bytes; a tail below the alignment would be
    // out of reach.
    if (device.alignmentBytes <= 512 && device.sizeBytes === await this.sizeBytes(name)) {
      return device;
    }
    await device.close();
    return undefined;
  }

  async #syncDir(): Promise<void> {
    const dir = await Deno.open(this.location, { read: true });
    try {
      await dir.sync();
    } finally {
      dir.close();
    }
  }
}

function isAllZero(bytes: Uint8Array): boolean {
  const words = new BigUint64Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 3);
  for (const word of words) if (word !== 0n) return false;
  for (let i = words.length * 8; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
