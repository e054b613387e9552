/**
 * One interface over the archive's image stores (STYLE.md layers): the file backend (sparse
 * files named as LVs, the embedded default) and LVM (a later issue). Servers only use this
 * interface, by image name (wdiff-and-archive.md §13.2).
 *
 * @module
 */
import type { BlockDevice } from "../device/block/mod.ts";

/** An image known to the backend. */
export interface ImageInfo {
  name: string;
  sizeBytes: number;
}

/** Options of {@link ArchiveBackend.snapshot}. */
export interface SnapshotOptions {
  /** Size of the new image (grown or cut from the origin's; default the origin's). */
  sizeBytes?: number;
}

/** A byte range of an image that holds data (outside every extent: holes, reading zeroes). */
export interface DataExtent {
  offsetBytes: number;
  lengthBytes: number;
}

/** Options of {@link ArchiveBackend.open}. */
export interface OpenOptions {
  /** Open read-only (default false). */
  readOnly?: boolean;
  /**
   * A hint for large sequential transfers (full sync, restore): bypass the page cache where the
   * backend can (`O_DIRECT`). The device then may require aligned offsets and lengths
   * ({@link BlockDevice.alignmentBytes}, at most 512 here: every image size and transfer of
   * the archive is a multiple of 512). Default false.
   */
  direct?: boolean;
}

/** An archive image store. */
export interface ArchiveBackend {
  /** `file` or `lvm`. */
  readonly kind: "file" | "lvm";
  /** What `get volume-group` prints: the VG name, or the image directory. */
  readonly location: string;
  /** The thin pool (empty when none; never for the file backend). */
  readonly thinPool: string;
  /** Every image (names as LVs). */
  list(): Promise<ImageInfo[]>;
  exists(name: string): Promise<boolean>;
  /** Size in bytes (throws NotFound when missing). */
  sizeBytes(name: string): Promise<number>;
  /** Creates a zero-filled image; fails if it exists. */
  create(name: string, sizeBytes: number): Promise<void>;
  /** Grows an image (shrinking is refused). */
  resize(name: string, sizeBytes: number): Promise<void>;
  remove(name: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Creates `name` as a writable copy of `origin` (an LVM snapshot). */
  snapshot(origin: string, name: string, options?: SnapshotOptions): Promise<void>;
  /** Full path of an image (a file path or `/dev/<vg>/<name>`). */
  path(name: string): string;
  /**
   * The data extents of an image, sorted, or undefined when unknown (an LV: all data). Sparse
   * file images have holes that a restore need neither read nor write.
   */
  dataExtents?(name: string): Promise<DataExtent[] | undefined>;
  /** Opens an image as a block device. */
  open(name: string, options?: OpenOptions): Promise<BlockDevice>;
}
