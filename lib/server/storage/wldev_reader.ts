/**
 * Wlog extraction for the storage worker: the packs of a WalB device's wldev read with
 * O_DIRECT in large windows, each read one window ahead of the packs being sent.
 *
 * Why: a userland device writes its ldev file with O_DIRECT, so the page cache never holds the
 * log and a buffered read allocates a fresh page-cache page for every block and copies it (on
 * this kind of VM 1.3 s of system time per GiB, 41 % of the storage's CPU in the sustained-flow
 * benchmark). An O_DIRECT read costs 0.08 s per GiB; the windows keep the device reads large
 * (one 4 MiB read instead of one read per record) and the read-ahead keeps the disk busy while
 * the previous window is checksummed, compressed and sent. walb-tools reads wldevs with
 * O_DIRECT too (device-and-wlog.md §2.3).
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { type BlockDevice, BlockIoError, openBlockDevice } from "../../device/block/mod.ts";
import { KernelWalbDevice } from "../../device/kernel/device.ts";
import type { LdevPack, LdevReadStop } from "../../device/ldev_reader.ts";
import { readOpenedWldevLogpacks } from "../../device/wldev.ts";
import { UserlandWalbDevice } from "../../device/userland/client.ts";
import type { WalbDevice } from "../../device/wdev.ts";
import { STORAGE_LIMITS } from "./constants.ts";

/** One window: `bytes` at `offsetBytes`, filled once `done` resolves. */
interface Window {
  offsetBytes: number;
  bytes: Uint8Array;
  done: Promise<void>;
}

const windowEnd = (window: Window) => window.offsetBytes + window.bytes.length;

/**
 * Forward positional reads served from whole windows of a device, `windowCount - 1` windows
 * read ahead. A returned array may be a view of a window buffer, valid until the next
 * {@link read} call (the ldev reader copies every read at once).
 *
 * @example
 * ```ts
 * import { MemoryDevice } from "../../device/block/mod.ts";
 * import { WindowedReader } from "./wldev_reader.ts";
 * const device = new MemoryDevice({ sizeBytes: 64 * 1024 });
 * await device.write(8192, Uint8Array.of(7));
 * const reader = new WindowedReader(device, { windowBytes: 16384, windowCount: 2 });
 * if ((await reader.read(8192, 512))[0] !== 7) throw new Error("wrong");
 * await reader.settle();
 * ```
 */
export class WindowedReader {
  readonly #device: BlockDevice;
  readonly #windowBytes: number;
  /** Window buffers, used round robin (windows are dropped in the order they were started). */
  readonly #buffers: Uint8Array[];
  /** Windows read or being read, contiguous and in offset order. */
  #windows: Window[] = [];
  #next = 0;

  /**
   * @param device an open device (not owned)
   * @param options `windowBytes` per device read (a multiple of the device alignment),
   *   `windowCount` buffers (≥ 2: one served, the others read ahead)
   */
  constructor(device: BlockDevice, options: { windowBytes: number; windowCount: number }) {
    assert(options.windowCount >= 2, "a windowed reader needs a window to read ahead");
    assert(options.windowBytes % device.alignmentBytes === 0, "windows must be aligned");
    this.#device = device;
    this.#windowBytes = options.windowBytes;
    this.#buffers = Array.from(
      { length: options.windowCount },
      () => new Uint8Array(options.windowBytes),
    );
  }

  /**
   * Reads `lengthBytes` at `offsetBytes` through the windows (a read larger than a window
   * on its own).
   *
   * @returns the bytes: a view valid until the next call, or an array of their own
   */
  async read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    if (lengthBytes > this.#windowBytes) return await this.#readAlone(offsetBytes, lengthBytes);
    const endBytes = offsetBytes + lengthBytes;
    while (this.#windows.length > 0 && windowEnd(this.#windows[0]!) <= offsetBytes) {
      await this.#windows.shift()!.done.catch(() => {}); // its buffer is reused next
    }
    let first = this.#windows[0];
    if (first === undefined || offsetBytes < first.offsetBytes) {
      // The reads jumped (a new range, the ring wrapped): start again there.
      await this.settle();
      first = this.#start(offsetBytes - offsetBytes % this.#device.alignmentBytes);
    }
    this.#fillAhead();
    await first.done;
    const begin = offsetBytes - first.offsetBytes;
    if (endBytes <= windowEnd(first)) return first.bytes.subarray(begin, begin + lengthBytes);
    // Across two windows: joined in an array of its own.
    const second = this.#windows[1];
    assert(second !== undefined, "a read past the device end");
    assert(second.offsetBytes === windowEnd(first), "windows must be contiguous");
    await second.done;
    const joined = new Uint8Array(lengthBytes);
    const head = first.bytes.subarray(begin);
    joined.set(head);
    joined.set(second.bytes.subarray(0, lengthBytes - head.length), head.length);
    return joined;
  }

  /** Waits for the reads in flight and forgets every window (before closing the device). */
  async settle(): Promise<void> {
    const windows = this.#windows;
    this.#windows = [];
    await Promise.allSettled(windows.map((window) => window.done));
  }

  /** A read larger than a window: aligned to the device, into an array of its own. */
  async #readAlone(offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    const alignment = this.#device.alignmentBytes;
    const begin = offsetBytes - offsetBytes % alignment;
    const end = Math.ceil((offsetBytes + lengthBytes) / alignment) * alignment;
    const bytes = await this.#device.read(begin, end - begin);
    return bytes.subarray(offsetBytes - begin, offsetBytes - begin + lengthBytes);
  }

  /** Starts reads of the windows after the last one while buffers are free. */
  #fillAhead(): void {
    for (;;) {
      const last = this.#windows.at(-1);
      if (last === undefined || this.#windows.length >= this.#buffers.length) return;
      if (windowEnd(last) >= this.#device.sizeBytes) return;
      this.#start(windowEnd(last));
    }
  }

  #start(offsetBytes: number): Window {
    const lengthBytes = Math.min(this.#windowBytes, this.#device.sizeBytes - offsetBytes);
    assert(lengthBytes > 0, "a window past the device end");
    const buffer = this.#buffers[this.#next]!;
    this.#next = (this.#next + 1) % this.#buffers.length;
    const bytes = buffer.subarray(0, lengthBytes);
    const done = this.#device.readInto(offsetBytes, bytes);
    done.catch(() => {}); // awaited when served; a read-ahead never served is not an error
    const window = { offsetBytes, bytes, done };
    this.#windows.push(window);
    return window;
  }
}

/** The wldev of a device: the ldev file of a userland device, `/dev/walb/LNAME` of a kernel one. */
async function wldevPathOf(device: WalbDevice): Promise<string | undefined> {
  if (device instanceof UserlandWalbDevice) return (await device.info()).ldevPath;
  if (device instanceof KernelWalbDevice) return device.wldevPath;
  return undefined;
}

/** Opens a wldev with O_DIRECT, or buffered where O_DIRECT is refused (tmpfs). */
async function openWldev(path: string): Promise<BlockDevice> {
  try {
    return await openBlockDevice(path, { readOnly: true, direct: true });
  } catch (error) {
    if (!(error instanceof BlockIoError) || error.code !== "EINVAL") throw error;
    return await openBlockDevice(path, { readOnly: true });
  }
}

/**
 * {@link WalbDevice.readLogpacks} through large O_DIRECT reads with read-ahead: the same packs,
 * checks and stop reason. Devices whose wldev is unknown are read by their own method.
 *
 * @param device the WalB device
 * @param fromLsid a pack boundary
 * @param endLsid packs starting at or after it are not read
 * @returns (as the generator's value) where and why reading stopped
 * @throws {CorruptDataError} when the super is invalid
 */
export async function* readLogpacksAhead(
  device: WalbDevice,
  fromLsid: bigint,
  endLsid: bigint,
): AsyncGenerator<LdevPack, LdevReadStop> {
  const path = await wldevPathOf(device);
  if (path === undefined) return yield* device.readLogpacks(fromLsid, endLsid);
  const wldev = await openWldev(path);
  const windows = new WindowedReader(wldev, {
    windowBytes: STORAGE_LIMITS.wldevReadSizeBytes,
    windowCount: STORAGE_LIMITS.wldevReadAheadCount + 1,
  });
  try {
    const readAt = (offset: number, length: number) => windows.read(offset, length);
    return yield* readOpenedWldevLogpacks(path, wldev, readAt, fromLsid, endLsid);
  } finally {
    await windows.settle();
    await wldev.close();
  }
}
