/**
 * Writing a wlog into a log device, as walb-tools `wlog-restore` does (offline-tools.md §3.6,
 * device-and-wlog.md §3.4): each pack goes to the ring position of its lsid plus a shift; a
 * pack that would cross the ring end is preceded by padding-only packs that fill the ring;
 * records past a data-device size can be neutralised; the pb after the last pack is zeroed
 * and the super sector gets the wlog's uuid and salt with oldest = written = the new begin.
 *
 * Pure over positional read and write functions.
 *
 * @module
 */
import { CorruptDataError, UsageError } from "../errors.ts";
import {
  buildSuperSector,
  checkLogpackHeader,
  encodeLogpackHeader,
  isDiscardRecord,
  isNormalRecord,
  isPaddingRecord,
  lbToPbCount,
  LOGICAL_BLOCK_SIZE,
  type Logpack,
  LogpackBuilder,
  type LogpackHeader,
  type LogpackIo,
  MAX_LSID,
  MAX_NORMAL_IO_SECTORS,
  nextLsidOf,
  payloadChecksum,
  pbUntilRingEnd,
  recordPbCount,
  SUPER_SECTOR_OFFSET,
  type SuperSector,
  type WlogReader,
} from "../format/wlog/mod.ts";
import { LdevLogReader, type ReadAt } from "./ldev_reader.ts";

/** Writes all of `data` at `offsetBytes` of the device. */
export type WriteAt = (offsetBytes: number, data: Uint8Array) => Promise<void>;

/** What {@link restoreWlog} reports per pack (for `-v`). */
export type RestoreEvent =
  | { kind: "skip"; header: LogpackHeader }
  | { kind: "restore"; header: LogpackHeader; offsetPb: number; padding: boolean };

/** Options of {@link restoreWlog}. */
export interface RestoreOptions {
  /** Skip packs whose wlog lsid is below this (`-b`, default 0). */
  beginLsid?: bigint;
  /** Signed lsid shift (`-d`, default 0). */
  lsidDiff?: bigint;
  /** Zero the pb of this device lsid at the end (`-i`). */
  invalidateLsid?: bigint;
  /** Data-device size [lb] (`-s`): records ending past it are neutralised. */
  deviceSizeLb?: bigint;
  /** Re-read each written header and compare (`--verify`). */
  verify?: boolean;
  /** Called for each pack read, skipped or written. */
  onPack?: (event: RestoreEvent) => void;
}

/** The ranges of a finished restore (the last lines of wlog-restore). */
export interface RestoreResult {
  /** Device lsid of the wlog's begin (the new oldest and written lsid). */
  restoredBeginLsid: bigint;
  /** Device lsid after the last pack (its pb is zeroed). */
  restoredEndLsid: bigint;
  wlogBeginLsid: bigint;
  /** lsid after the last pack read from the wlog. */
  wlogEndLsid: bigint;
  lsidDiffStart: bigint;
  /** The shift at the end: the start shift plus the ring-end padding. */
  lsidDiffEnd: bigint;
  /** The super written. */
  sup: SuperSector;
}

/** The device as {@link restoreWlog} sees it. */
export interface LdevTarget {
  readAt: ReadAt;
  writeAt: WriteAt;
  /** Its current super sector. */
  sup: SuperSector;
}

/**
 * Checks that `pbs` of a wlog can be restored onto an ldev with `sup`.
 *
 * @throws {UsageError} `Physical block size differs. super {s} head {h}` (with the original's
 *   trailing newline)
 */
export function checkRestorePbs(sup: SuperSector, wlogPbs: number): void {
  if (sup.pbs !== wlogPbs) {
    throw new UsageError(`Physical block size differs. super ${sup.pbs} head ${wlogPbs}\n`);
  }
}

/**
 * Restores the packs of `wlog` (its header already read) into the ldev.
 *
 * @throws {UsageError} on a pbs mismatch, a shift out of the lsid range, or a log longer than
 *   the ring (`overflow`); checked before the pack that would break it is written
 * @throws {CorruptDataError} when a payload does not match its checksum
 *   (`restore:wlog file corrupt:{lsid}`) or a written header reads back different
 */
export async function restoreWlog(
  wlog: WlogReader,
  target: LdevTarget,
  options: RestoreOptions = {},
): Promise<RestoreResult> {
  const header = wlog.header;
  if (header === undefined) throw new Error("restoreWlog() before readHeader()");
  const { sup } = target;
  checkRestorePbs(sup, header.pbs);
  const diffStart = options.lsidDiff ?? 0n;
  const restoredBegin = header.beginLsid + diffStart;
  if (restoredBegin < 0n || restoredBegin > MAX_LSID) {
    throw new UsageError(
      `lsid diff ${diffStart} moves begin lsid ${header.beginLsid} out of range`,
    );
  }
  const placer = new PackPlacer(target, { pbs: header.pbs, salt: header.salt }, restoredBegin);
  placer.diff = diffStart;
  let wlogEnd = header.beginLsid;
  for await (const pack of wlog.packs()) {
    if (pack.header.logpackLsid >= header.endLsid) break;
    checkPayloads(pack, header.salt);
    wlogEnd = pack.nextLsid;
    if (pack.header.logpackLsid < (options.beginLsid ?? 0n)) {
      options.onPack?.({ kind: "skip", header: pack.header });
      continue;
    }
    const ios = options.deviceSizeLb === undefined
      ? undefined
      : clipIos(pack.ios, options.deviceSizeLb);
    if (ios === undefined) await placer.placePack(pack, options);
    else await placer.placeClipped(pack, groupIos(ios, header.pbs), options);
  }
  const restoredEnd = wlogEnd + placer.diff;
  placer.checkSpan(restoredEnd);
  const zero = new Uint8Array(header.pbs);
  const reader = placer.reader;
  await target.writeAt(reader.byteOffsetOf(restoredEnd), zero);
  const newSup: SuperSector = {
    ...sup,
    salt: header.salt,
    uuid: header.uuid.slice(),
    oldestLsid: restoredBegin,
    writtenLsid: restoredBegin,
  };
  const superBlock = buildSuperSector(newSup);
  await target.writeAt(SUPER_SECTOR_OFFSET, superBlock);
  if (options.invalidateLsid !== undefined) {
    await target.writeAt(reader.byteOffsetOf(options.invalidateLsid), zero);
  }
  return {
    restoredBeginLsid: restoredBegin,
    restoredEndLsid: restoredEnd,
    wlogBeginLsid: header.beginLsid,
    wlogEndLsid: wlogEnd,
    lsidDiffStart: diffStart,
    lsidDiffEnd: placer.diff,
    sup: { ...newSup, checksum: new DataView(superBlock.buffer).getUint32(4, true) },
  };
}

function checkPayloads(pack: Logpack & { offset?: number }, salt: number): void {
  for (const { record, payload } of pack.ios) {
    if (!isNormalRecord(record)) continue;
    const actual = payloadChecksum(payload, salt);
    if (actual !== record.checksum) {
      throw new CorruptDataError(
        `log record (lsid ${record.lsid}) payload`,
        pack.offset ?? -1,
        `restore:wlog file corrupt:${pack.header.logpackLsid}: checksum is 0x${
          actual.toString(16)
        }, the record says 0x${record.checksum.toString(16)}`,
      );
    }
  }
}

/**
 * Neutralises records ending past `deviceSizeLb`: discards are dropped and normal records
 * become padding of the same pb count.
 *
 * @returns the new IO list, or undefined when nothing changes
 */
export function clipIos(ios: LogpackIo[], deviceSizeLb: bigint): LogpackIo[] | undefined {
  let changed = false;
  const result: LogpackIo[] = [];
  for (const io of ios) {
    const { record } = io;
    const beyond = !isPaddingRecord(record) &&
      BigInt(record.offset) + BigInt(record.ioSize) > deviceSizeLb;
    if (!beyond) {
      result.push(io);
      continue;
    }
    changed = true;
    if (isDiscardRecord(record)) continue;
    result.push({
      record: { ...record, flags: 3, offset: 0, checksum: 0 },
      data: io.data,
      payload: io.payload,
    });
  }
  return changed ? result : undefined;
}

/**
 * Splits IOs into groups that each fit one pack (header slots, one padding record, u16
 * total_io_size), in order. An empty list gives one empty group (a padding-only pack of size
 * 0 keeps the pack's pb in the log).
 */
export function groupIos(ios: LogpackIo[], pbs: number): LogpackIo[][] {
  const groups: LogpackIo[][] = [];
  let builder = new LogpackBuilder({ pbs, salt: 0, lsid: 0n });
  let group: LogpackIo[] = [];
  for (const io of ios) {
    if (!addIo(builder, io, pbs)) {
      groups.push(group);
      builder = new LogpackBuilder({ pbs, salt: 0, lsid: 0n });
      group = [];
      if (!addIo(builder, io, pbs)) throw new RangeError("a log record does not fit a pack");
    }
    group.push(io);
  }
  groups.push(group);
  return groups;
}

function addIo(builder: LogpackBuilder, io: LogpackIo, pbs: number): boolean {
  const { record } = io;
  if (isDiscardRecord(record)) return builder.addDiscard(record.offset, record.ioSize);
  if (isPaddingRecord(record)) {
    const pb = lbToPbCount(record.ioSize, pbs);
    return builder.addPadding(pb, pb === 0 ? new Uint8Array(0) : io.data);
  }
  return builder.addNormal(record.offset, io.payload, io.data);
}

/** Places packs at device lsids, tracking the shift and inserting ring-end padding. */
class PackPlacer {
  readonly reader: LdevLogReader;
  readonly #target: LdevTarget;
  readonly #pbs: number;
  readonly #salt: number;
  readonly #ringBufferSize: bigint;
  readonly #restoredBegin: bigint;
  /** Current shift from wlog lsid to device lsid. */
  diff = 0n;

  constructor(target: LdevTarget, log: { pbs: number; salt: number }, restoredBegin: bigint) {
    this.#target = target;
    this.#pbs = log.pbs;
    this.#salt = log.salt;
    this.#ringBufferSize = target.sup.ringBufferSize;
    this.#restoredBegin = restoredBegin;
    this.reader = new LdevLogReader(target.readAt, target.sup);
  }

  /** Refuses a log whose end pb would reach the begin position again. */
  checkSpan(endLsid: bigint): void {
    if (endLsid > MAX_LSID) throw new UsageError(`overflow: lsid ${endLsid} is past MAX_LSID`);
    if (endLsid - this.#restoredBegin >= this.#ringBufferSize) {
      throw new UsageError(
        `overflow: lsid range [${this.#restoredBegin}, ${endLsid}) does not fit the ring buffer of ${this.#ringBufferSize} pb`,
      );
    }
  }

  /** Writes a pack read from the wlog, moved by the shift (re-sealed when it moves). */
  async placePack(pack: Logpack, options: RestoreOptions): Promise<void> {
    const lsid = await this.#makeRoom(
      pack.header.logpackLsid + this.diff,
      pack.header.totalIoSize,
      options,
    );
    let block = pack.block;
    let header = pack.header;
    if (lsid !== header.logpackLsid) {
      block = encodeLogpackHeader(relocate(header, lsid), { pbs: this.#pbs, salt: this.#salt });
      header = checkLogpackHeader(block, { pbs: this.#pbs, salt: this.#salt, expectedLsid: lsid });
    }
    await this.#write({ header, block, ios: pack.ios, nextLsid: nextLsidOf(header) }, options);
  }

  /**
   * Writes the (clipped) IOs of a wlog pack as freshly built packs, one per group; the shift
   * then grows by the headers a split added.
   */
  async placeClipped(pack: Logpack, groups: LogpackIo[][], options: RestoreOptions): Promise<void> {
    let next = pack.header.logpackLsid + this.diff;
    for (const ios of groups) {
      const totalPb = ios.reduce((sum, io) => sum + recordPbCount(io.record, this.#pbs), 0);
      const lsid = await this.#makeRoom(next, totalPb, options);
      const builder = new LogpackBuilder({ pbs: this.#pbs, salt: this.#salt, lsid });
      for (const io of ios) {
        if (!addIo(builder, io, this.#pbs)) throw new RangeError("group does not fit one pack");
      }
      if (builder.isEmpty) builder.addPadding(0);
      const built = builder.seal();
      await this.#write(built, options);
      next = built.nextLsid;
    }
    this.diff = next - pack.nextLsid;
  }

  /**
   * Where a pack of `totalPb` data pb can start at or after `lsid` without crossing the ring
   * end: padding-only packs fill the ring up to its end first, and the shift grows by them.
   */
  async #makeRoom(lsid: bigint, totalPb: number, options: RestoreOptions): Promise<bigint> {
    const size = BigInt(1 + totalPb);
    if (size > this.#ringBufferSize) {
      throw new UsageError(`overflow: a pack of ${size} pb does not fit the ring buffer`);
    }
    let current = lsid;
    while (pbUntilRingEnd(current, this.#ringBufferSize) < size) {
      const room = Number(pbUntilRingEnd(current, this.#ringBufferSize));
      const maxPaddingPb = Math.floor(MAX_NORMAL_IO_SECTORS * LOGICAL_BLOCK_SIZE / this.#pbs);
      const paddingPb = Math.min(room - 1, maxPaddingPb);
      const builder = new LogpackBuilder({ pbs: this.#pbs, salt: this.#salt, lsid: current });
      builder.addPadding(paddingPb);
      const pack = builder.seal();
      await this.#write(pack, options, true);
      const advance = pack.nextLsid - current;
      this.diff += advance;
      current = pack.nextLsid;
    }
    return current;
  }

  async #write(pack: Logpack, options: RestoreOptions, padding = false): Promise<void> {
    const { header } = pack;
    const lsid = header.logpackLsid;
    this.checkSpan(pack.nextLsid);
    const bytes = new Uint8Array((1 + header.totalIoSize) * this.#pbs);
    bytes.set(pack.block, 0);
    let position = this.#pbs;
    for (const io of pack.ios) {
      bytes.set(io.data, position);
      position += io.data.length;
    }
    // #makeRoom guarantees the pack does not cross the ring end: one write.
    const offset = this.reader.byteOffsetOf(lsid);
    await this.#target.writeAt(offset, bytes);
    if (options.verify) {
      const back = await this.reader.readBlocks(lsid, 1);
      if (!sameBytes(back, pack.block)) {
        throw new CorruptDataError("written logpack header", offset, "it reads back different");
      }
    }
    options.onPack?.({ kind: "restore", header, offsetPb: offset / this.#pbs, padding });
  }
}

function relocate(header: LogpackHeader, lsid: bigint): LogpackHeader {
  return {
    ...header,
    logpackLsid: lsid,
    records: header.records.map((r) => ({ ...r, lsid: lsid + BigInt(r.lsidLocal) })),
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
