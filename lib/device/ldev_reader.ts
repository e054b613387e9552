/**
 * Reading a log device (ldev) offline (device-and-wlog.md §2, §3.6–3.8, §8): the super sector,
 * raw lsid ranges at their ring positions (split at the ring end), and the logpacks from a
 * known pack boundary up to the first block that is not a valid header at the expected lsid.
 *
 * Pure over a positional read function, so the same code reads a file image, an O_DIRECT
 * block device or a test buffer.
 *
 * @module
 */
import { ChecksumMismatchError, CorruptDataError, toSafeNumber } from "../errors.ts";
import {
  decodeLogpackHeader,
  decodeSuperSector,
  encodeLogpackHeader,
  inspectLogpackHeader,
  INVALID_LSID,
  isDiscardRecord,
  isNormalRecord,
  isValidPbs,
  LOGICAL_BLOCK_SIZE,
  type Logpack,
  type LogpackHeader,
  type LogpackIo,
  logpackSizeProblem,
  lsidToByteOffset,
  nextLsidOf,
  PAGE_SIZE,
  parseSuperSector,
  payloadChecksum,
  pbUntilRingEnd,
  recordPbCount,
  ringBufferOffsetPb,
  shrinkLogpackHeader,
  SUPER_SECTOR_OFFSET,
  type SuperSector,
} from "../format/wlog/mod.ts";

/** Reads `lengthBytes` at `offsetBytes` of the device (aligned to the pbs by every caller). */
export type ReadAt = (offsetBytes: number, lengthBytes: number) => Promise<Uint8Array>;

/** A super sector with the pb it was decoded from. */
export interface LdevSuper {
  sup: SuperSector;
  /** The whole super pb (`pbs` bytes). */
  block: Uint8Array;
}

/**
 * Reads and validates super sector 0 (§2.2): one 4096-byte read at offset 4096 (aligned for
 * any O_DIRECT sector size), pbs taken from the super itself (§2.1), checksum verified, and
 * the ring buffer checked to lie inside the device.
 *
 * @param readAt positional read of the device
 * @param options `sizeBytes` of the device; `devicePbs` to cross-check (block devices only)
 * @returns the super and its pb
 * @throws {ChecksumMismatchError} when the super checksum does not verify
 * @throws {CorruptDataError} when the device is too small, the super is invalid, or its ring
 *   does not fit the device
 * @example
 * ```ts
 * import { buildSuperSector, formatLdevSuper } from "../format/wlog/mod.ts";
 * import { readLdevSuper } from "./ldev_reader.ts";
 * const image = new Uint8Array(64 * 1024);
 * const init = formatLdevSuper({ ldevLb: 128n, ddevLb: 64n, pbs: 512, salt: 7, uuid: new Uint8Array(16) });
 * image.set(buildSuperSector(init), 4096);
 * const { sup } = await readLdevSuper(
 *   (offset, length) => Promise.resolve(image.slice(offset, offset + length)),
 *   { sizeBytes: image.length },
 * );
 * if (sup.ringBufferSize !== 118n) throw new Error("wrong");
 * ```
 */
export async function readLdevSuper(
  readAt: ReadAt,
  options: { sizeBytes: number; devicePbs?: number },
): Promise<LdevSuper> {
  const { sizeBytes } = options;
  if (sizeBytes < SUPER_SECTOR_OFFSET + PAGE_SIZE) {
    throw new CorruptDataError(
      "super sector",
      SUPER_SECTOR_OFFSET,
      `the device is only ${sizeBytes} bytes`,
    );
  }
  const page = await readAt(SUPER_SECTOR_OFFSET, PAGE_SIZE);
  const pbs = decodeSuperSector(page).pbs;
  const block = isValidPbs(pbs) ? page.slice(0, pbs) : page;
  const check = options.devicePbs === undefined ? {} : { expectedPbs: options.devicePbs };
  const sup = parseSuperSector(block, check);
  const ringEndPb = BigInt(ringBufferOffsetPb(sup.pbs, sup.metadataSize)) + sup.ringBufferSize;
  if (ringEndPb * BigInt(sup.pbs) > BigInt(sizeBytes)) {
    throw new CorruptDataError(
      "super sector",
      SUPER_SECTOR_OFFSET,
      `the ring buffer ends at pb ${ringEndPb}, past the device end (${sizeBytes} bytes)`,
    );
  }
  return { sup, block };
}

/** A pack read from an ldev. */
export interface LdevPack extends Logpack {
  /** True when a bad payload made the reader truncate the pack (§3.8); see `badRecordIndex`. */
  shrunk: boolean;
  /** Index of the first record whose payload checksum failed (when shrunk). */
  badRecordIndex?: number;
}

/** Why {@link LdevLogReader.packs} stopped. */
export interface LdevReadStop {
  /** `limit`: the end lsid was reached; `invalid`: no valid header at `lsid`; `shrunk`: the
   * pack at `lsid` had a bad payload and was truncated. */
  reason: "limit" | "invalid" | "shrunk";
  /** lsid where reading stopped. */
  lsid: bigint;
  detail: string;
}

/** Options of {@link LdevLogReader.packs}. */
export interface LdevPacksOptions {
  /** Read packs starting below this lsid (default 2^64 - 1: until the log ends). */
  endLsid?: bigint;
  /** Read the records' data (default true). With false only headers are read. */
  readData?: boolean;
  /**
   * Check each normal payload and truncate the pack at the first bad one, then stop (default
   * true, walb-tools `LogPackHeader::shrink`). With false the data is returned unchecked.
   */
  shrink?: boolean;
}

/**
 * Reads an ldev's ring buffer: raw pb ranges and logpacks (reference algorithm of §8).
 *
 * @example
 * ```ts
 * import { LdevLogReader } from "./ldev_reader.ts";
 * const sup = {
 *   sectorType: 1, version: 2, checksum: 0, logicalBs: 512, pbs: 512, metadataSize: 0, salt: 0,
 *   uuid: new Uint8Array(16), name: "", ringBufferSize: 8n, oldestLsid: 0n, writtenLsid: 0n,
 *   deviceSize: 64n,
 * };
 * const image = new Uint8Array(18 * 512);
 * const reader = new LdevLogReader((o, n) => Promise.resolve(image.slice(o, o + n)), sup);
 * let count = 0;
 * for await (const _ of reader.packs(0n)) count++;
 * if (count !== 0 || reader.stop?.reason !== "invalid") throw new Error("wrong");
 * ```
 */
export class LdevLogReader {
  readonly #readAt: ReadAt;
  readonly #sup: SuperSector;
  #stop: LdevReadStop | undefined;
  #endLsid = 0n;

  constructor(readAt: ReadAt, sup: SuperSector) {
    if (sup.ringBufferSize <= 0n) throw new RangeError("ring buffer size must be positive");
    this.#readAt = readAt;
    this.#sup = sup;
  }

  /** The super sector the reader works with. */
  get sup(): SuperSector {
    return this.#sup;
  }

  /** Why the last {@link packs} loop stopped (undefined while it runs). */
  get stop(): LdevReadStop | undefined {
    return this.#stop;
  }

  /** lsid after the last pack yielded (the start lsid before any). */
  get endLsid(): bigint {
    return this.#endLsid;
  }

  /** Byte offset on the ldev where `lsid` lies. */
  byteOffsetOf(lsid: bigint): number {
    return toSafeNumber(lsidToByteOffset(lsid, this.#sup), "ldev byte offset");
  }

  /**
   * Reads `countPb` pb from `lsid` at their ring positions, splitting the read at the ring end.
   *
   * @returns `countPb * pbs` bytes
   */
  async readBlocks(lsid: bigint, countPb: number): Promise<Uint8Array> {
    const { pbs, ringBufferSize } = this.#sup;
    const bytes = new Uint8Array(countPb * pbs);
    let done = 0;
    let current = lsid;
    while (done < countPb) {
      const piece = Math.min(countPb - done, Number(pbUntilRingEnd(current, ringBufferSize)));
      const data = await this.#readAt(this.byteOffsetOf(current), piece * pbs);
      bytes.set(data, done * pbs);
      done += piece;
      current += BigInt(piece);
    }
    return bytes;
  }

  /**
   * Yields the packs from `beginLsid` (a pack boundary) in lsid order while their lsid is below
   * `endLsid`, up to the first block that is not a valid header at the expected lsid. A pack
   * shrunk to no record is yielded too (with `nRecords` 0), then reading stops.
   */
  async *packs(
    beginLsid: bigint,
    options: LdevPacksOptions = {},
  ): AsyncGenerator<LdevPack, void, undefined> {
    const endLsid = options.endLsid ?? INVALID_LSID;
    const readData = options.readData ?? true;
    const shrink = options.shrink ?? true;
    const { pbs, salt } = this.#sup;
    this.#stop = undefined;
    this.#endLsid = beginLsid;
    let lsid = beginLsid;
    while (lsid < endLsid) {
      const offset = this.byteOffsetOf(lsid);
      const block = await this.readBlocks(lsid, 1);
      const inspection = inspectLogpackHeader(block, { pbs, salt, offset, expectedLsid: lsid });
      if (inspection.kind !== "valid") {
        const detail = inspection.kind === "end" ? "end block" : inspection.problem;
        this.#stop = { reason: "invalid", lsid, detail };
        return;
      }
      const header = inspection.header;
      const sizeProblem = logpackSizeProblem(header, pbs);
      if (sizeProblem !== undefined) {
        this.#stop = { reason: "invalid", lsid, detail: sizeProblem };
        return;
      }
      const nextLsid = nextLsidOf(header);
      if (!readData) {
        this.#endLsid = nextLsid;
        yield { header, block, ios: [], nextLsid, shrunk: false };
        lsid = nextLsid;
        continue;
      }
      const { ios, badIndex, detail } = await this.#readIos(header, shrink);
      if (badIndex !== undefined) {
        const pack = this.#shrunkPack(header, ios, badIndex);
        this.#endLsid = pack.nextLsid;
        this.#stop = { reason: "shrunk", lsid, detail };
        yield pack;
        return;
      }
      this.#endLsid = nextLsid;
      yield { header, block, ios, nextLsid, shrunk: false };
      lsid = nextLsid;
    }
    this.#stop = { reason: "limit", lsid, detail: `reached lsid ${endLsid}` };
  }

  async #readIos(
    header: LogpackHeader,
    shrink: boolean,
  ): Promise<{ ios: LogpackIo[]; badIndex?: number; detail: string }> {
    const { pbs, salt } = this.#sup;
    const ios: LogpackIo[] = [];
    let current = header.logpackLsid + 1n;
    for (const [index, record] of header.records.entries()) {
      if (isDiscardRecord(record)) {
        const empty = new Uint8Array(0);
        ios.push({ record, data: empty, payload: empty });
        continue;
      }
      const countPb = recordPbCount(record, pbs);
      const data = await this.readBlocks(current, countPb);
      current += BigInt(countPb);
      const payload = data.subarray(0, record.ioSize * LOGICAL_BLOCK_SIZE);
      if (shrink && isNormalRecord(record)) {
        const actual = payloadChecksum(payload, salt);
        if (actual !== record.checksum) {
          const error = new ChecksumMismatchError(
            `log record ${index} (lsid ${record.lsid}) payload`,
            this.byteOffsetOf(current - BigInt(countPb)),
            actual,
            record.checksum,
          );
          return { ios, badIndex: index, detail: error.message };
        }
      }
      ios.push({ record, data, payload });
    }
    return { ios, detail: "" };
  }

  #shrunkPack(header: LogpackHeader, ios: LogpackIo[], badIndex: number): LdevPack {
    const { pbs, salt } = this.#sup;
    const shrunk = shrinkLogpackHeader(header, badIndex, pbs);
    const block = encodeLogpackHeader(shrunk, { pbs, salt });
    const sealed = decodeLogpackHeader(block, { pbs });
    return {
      header: sealed,
      block,
      ios: ios.slice(0, badIndex),
      nextLsid: nextLsidOf(sealed),
      shrunk: true,
      badRecordIndex: badIndex,
    };
  }
}
