/**
 * Pending data: IOs whose log is written but whose data is not yet on the ddev, kept in lsid
 * order so reads see every acknowledged write (device-and-wlog.md §9 item 11).
 *
 * @module
 */
import { assert } from "../../errors.ts";
import type { DataIo } from "./data_io.ts";

/**
 * IOs grouped by pack (insertion order is lsid order). A read takes a snapshot of the IOs
 * that overlap it, reads the ddev, then lays the snapshot over the result in lsid order: an
 * IO applied to the ddev meanwhile is laid again with the same bytes, so the result is right
 * whichever happens first.
 *
 * @example
 * ```ts
 * import { PendingData } from "./pending.ts";
 * const pending = new PendingData();
 * pending.add(0n, [{ offsetBytes: 512, lengthBytes: 512, data: new Uint8Array(512).fill(1) }]);
 * const target = new Uint8Array(1024);
 * PendingData.overlay(pending.overlapping(0, 1024), 0, target);
 * if (target[512] !== 1 || target[0] !== 0) throw new Error("wrong");
 * ```
 */
export class PendingData {
  #packs = new Map<bigint, DataIo[]>();
  #bytes = 0;
  #ioCount = 0;

  /** Bytes of pending write data (discards count 0). */
  get bytes(): number {
    return this.#bytes;
  }
  /** Number of pending IOs. */
  get ioCount(): number {
    return this.#ioCount;
  }

  /** Adds a pack's IOs (packs must be added in lsid order). */
  add(packLsid: bigint, ios: DataIo[]): void {
    assert(!this.#packs.has(packLsid), "a pack is pending once");
    this.#packs.set(packLsid, ios);
    for (const io of ios) this.#bytes += io.data?.length ?? 0;
    this.#ioCount += ios.length;
  }

  /** Forgets a pack once its data is on the ddev. */
  remove(packLsid: bigint): void {
    const ios = this.#packs.get(packLsid);
    assert(ios !== undefined, "only a pending pack is removed");
    this.#packs.delete(packLsid);
    for (const io of ios) this.#bytes -= io.data?.length ?? 0;
    this.#ioCount -= ios.length;
  }

  /** Forgets everything (after reset-wal, when every pack has been applied). */
  clear(): void {
    this.#packs.clear();
    this.#bytes = 0;
    this.#ioCount = 0;
  }

  /** The IOs overlapping `[offsetBytes, offsetBytes + lengthBytes)`, in lsid order. */
  overlapping(offsetBytes: number, lengthBytes: number): DataIo[] {
    const end = offsetBytes + lengthBytes;
    const result: DataIo[] = [];
    for (const ios of this.#packs.values()) {
      for (const io of ios) {
        if (io.offsetBytes < end && offsetBytes < io.offsetBytes + io.lengthBytes) {
          result.push(io);
        }
      }
    }
    return result;
  }

  /** Lays `ios` (in lsid order) over `target`, which holds the bytes at `offsetBytes`. */
  static overlay(ios: readonly DataIo[], offsetBytes: number, target: Uint8Array): void {
    const end = offsetBytes + target.length;
    for (const io of ios) {
      const start = Math.max(io.offsetBytes, offsetBytes);
      const stop = Math.min(io.offsetBytes + io.lengthBytes, end);
      if (start >= stop) continue;
      if (io.data === null) {
        target.fill(0, start - offsetBytes, stop - offsetBytes);
      } else {
        target.set(
          io.data.subarray(start - io.offsetBytes, stop - io.offsetBytes),
          start - offsetBytes,
        );
      }
    }
  }
}
