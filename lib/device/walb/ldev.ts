/**
 * Block I/O on a WalB log device (device-and-wlog.md §2): the super sector at byte 4096 and
 * the ring buffer addressed by lsid, with every transfer split at the ring end (one request
 * never wraps, §2.3) and at the block layer's I/O limit.
 *
 * @module
 */
import { assert, CorruptDataError } from "../../errors.ts";
import type { BlockDevice } from "../block/block_device.ts";
import {
  buildSuperSector,
  parseSuperSector,
  ringBufferOffsetPb,
  SUPER_SECTOR_OFFSET,
  type SuperSector,
  type SuperSectorInit,
} from "../../format/wlog/super_sector.ts";
import { isValidPbs } from "../../format/wlog/constants.ts";
import { WALB_ENGINE_LIMITS } from "./limits.ts";

/** A contiguous run of pb in lsid space and its bytes (a multiple of pbs). */
export interface LsidRun {
  lsid: bigint;
  data: Uint8Array;
}

/**
 * The ring buffer of an ldev: lsid → byte offset, reads and writes of whole pb.
 *
 * @example
 * ```ts
 * import { MemoryDevice } from "../block/memory_device.ts";
 * import { LdevRing } from "./ldev.ts";
 * const ring = new LdevRing(new MemoryDevice({ sizeBytes: 64 * 512 }), { pbs: 512, ringBufferSize: 16n });
 * await ring.write(15n, new Uint8Array(1024).fill(7)); // pb 15 then pb 0 of the ring
 * if ((await ring.read(16n, 1))[0] !== 7) throw new Error("wrap");
 * ```
 */
export class LdevRing {
  readonly device: BlockDevice;
  readonly pbs: number;
  readonly ringBufferSize: bigint;
  /** Ring buffer offset [pb]. */
  readonly rboPb: number;

  /**
   * @param device the ldev
   * @param layout pbs, ring size [pb] and the deprecated metadata size (default 0)
   * @throws {CorruptDataError} when the ring does not fit on the device
   */
  constructor(
    device: BlockDevice,
    layout: { pbs: number; ringBufferSize: bigint; metadataSize?: number },
  ) {
    assert(isValidPbs(layout.pbs), "ldev pbs must be 512, 1024, 2048 or 4096");
    this.device = device;
    this.pbs = layout.pbs;
    this.ringBufferSize = layout.ringBufferSize;
    this.rboPb = ringBufferOffsetPb(layout.pbs, layout.metadataSize ?? 0);
    const endBytes = (BigInt(this.rboPb) + layout.ringBufferSize) * BigInt(layout.pbs);
    if (layout.ringBufferSize <= 0n || endBytes > BigInt(device.sizeBytes)) {
      throw new CorruptDataError(
        "super sector",
        SUPER_SECTOR_OFFSET,
        `ring buffer of ${layout.ringBufferSize} pb ends at byte ${endBytes}, ` +
          `past the end of ${device.description} (${device.sizeBytes} bytes)`,
      );
    }
  }

  /** Byte offset of lsid's pb on the ldev. */
  byteOffset(lsid: bigint): number {
    return (this.rboPb + Number(lsid % this.ringBufferSize)) * this.pbs;
  }

  /** Reads `countPb` pb starting at lsid (wrapping at the ring end). */
  async read(lsid: bigint, countPb: number): Promise<Uint8Array> {
    const target = new Uint8Array(countPb * this.pbs);
    await Promise.all(
      this.#pieces(lsid, target.length).map(({ offsetBytes, position, lengthBytes }) =>
        this.device.readInto(offsetBytes, target.subarray(position, position + lengthBytes))
      ),
    );
    return target;
  }

  /** Writes whole pb starting at lsid (wrapping at the ring end). */
  async write(lsid: bigint, data: Uint8Array): Promise<void> {
    assert(data.length % this.pbs === 0, "ring writes are whole pb");
    await Promise.all(
      this.#pieces(lsid, data.length).map(({ offsetBytes, position, lengthBytes }) =>
        this.device.write(offsetBytes, data.subarray(position, position + lengthBytes))
      ),
    );
  }

  /**
   * Writes the concatenation of `parts` (whole pb in all) starting at lsid, like
   * {@link write} without joining them first: each device call gets the parts it covers
   * (a gather write when the device has one).
   */
  async writeGather(lsid: bigint, parts: readonly Uint8Array[]): Promise<void> {
    let lengthBytes = 0;
    for (const part of parts) lengthBytes += part.length;
    assert(lengthBytes % this.pbs === 0, "ring writes are whole pb");
    await Promise.all(
      this.#pieces(lsid, lengthBytes).map(({ offsetBytes, position, lengthBytes }) => {
        const covered = sliceParts(parts, position, lengthBytes);
        if (this.device.writeGather !== undefined) {
          return this.device.writeGather(offsetBytes, covered);
        }
        return this.device.write(offsetBytes, joinParts(covered, lengthBytes));
      }),
    );
  }

  /** Splits `[lsid, lsid + length)` at the ring end and at the I/O limit. */
  #pieces(lsid: bigint, lengthBytes: number) {
    assert(lengthBytes % this.pbs === 0, "ring transfers are whole pb");
    assert(BigInt(lengthBytes / this.pbs) <= this.ringBufferSize, "transfer fits in the ring");
    const maxBytes = Math.floor(WALB_ENGINE_LIMITS.ioSizeBytesMax / this.pbs) * this.pbs;
    const pieces: { offsetBytes: number; position: number; lengthBytes: number }[] = [];
    let position = 0;
    let current = lsid;
    while (position < lengthBytes) {
      const roomPb = Number(this.ringBufferSize - current % this.ringBufferSize);
      const length = Math.min(roomPb * this.pbs, lengthBytes - position, maxBytes);
      pieces.push({ offsetBytes: this.byteOffset(current), position, lengthBytes: length });
      position += length;
      current += BigInt(length / this.pbs);
    }
    return pieces;
  }
}

/** The views of `parts` (seen as one array) covering `[position, position + lengthBytes)`. */
export function sliceParts(
  parts: readonly Uint8Array[],
  position: number,
  lengthBytes: number,
): Uint8Array[] {
  const covered: Uint8Array[] = [];
  const end = position + lengthBytes;
  let start = 0;
  for (const part of parts) {
    const stop = start + part.length;
    if (part.length > 0 && stop > position && start < end) {
      covered.push(
        part.subarray(Math.max(0, position - start), Math.min(part.length, end - start)),
      );
    }
    if (stop >= end) break;
    start = stop;
  }
  return covered;
}

/** The parts joined into one new array of `lengthBytes`. */
export function joinParts(parts: readonly Uint8Array[], lengthBytes: number): Uint8Array {
  if (parts.length === 1 && parts[0]!.length === lengthBytes) return parts[0]!;
  const joined = new Uint8Array(lengthBytes);
  let position = 0;
  for (const part of parts) {
    joined.set(part, position);
    position += part.length;
  }
  return joined;
}

/**
 * Reads and validates super sector 0 (§2.2, checksum included), taking pbs from the device.
 *
 * @throws {CorruptDataError} when the device is too small or the block is not a valid super
 *   sector (ChecksumMismatchError for a bad checksum)
 */
export async function readSuperSector(ldev: BlockDevice): Promise<SuperSector> {
  const pbs = ldev.physicalBlockSize;
  if (ldev.sizeBytes < SUPER_SECTOR_OFFSET + pbs) {
    throw new CorruptDataError(
      "super sector",
      SUPER_SECTOR_OFFSET,
      `${ldev.description} has only ${ldev.sizeBytes} bytes`,
    );
  }
  const block = await ldev.read(SUPER_SECTOR_OFFSET, pbs);
  return parseSuperSector(block, { expectedPbs: pbs });
}

/** Writes super sector 0 (sealed, full pb). The caller flushes the ldev. */
export async function writeSuperSector(ldev: BlockDevice, init: SuperSectorInit): Promise<void> {
  await ldev.write(SUPER_SECTOR_OFFSET, buildSuperSector(init));
}
