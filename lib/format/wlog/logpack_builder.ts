/**
 * Building logpacks like the driver does (device-and-wlog.md §3.3–3.5): records get their
 * lsid_local and lsid, total_io_size grows by each data record's pb count, a normal IO that
 * would cross the ring-buffer end is preceded by a padding record, and the pack closes when
 * the header is full or total_io_size would pass 65535.
 *
 * @module
 */
import { assert } from "../../errors.ts";
import {
  isValidPbs,
  lbToPbCount,
  LOG_RECORD_DISCARD,
  LOG_RECORD_EXIST,
  LOG_RECORD_PADDING,
  LOGICAL_BLOCK_SIZE,
  MAX_DISCARD_IO_SECTORS,
  MAX_NORMAL_IO_SECTORS,
  SECTOR_TYPE_LOGPACK,
} from "./constants.ts";
import {
  checkLogpackHeader,
  encodeLogpackHeader,
  type LogpackHeader,
  type LogRecord,
  maxRecordsInPack,
  nextLsidOf,
  payloadChecksum,
  TOTAL_IO_SIZE_MAX,
} from "./logpack.ts";

/** One record of a pack with its data. */
export interface LogpackIo {
  record: LogRecord;
  /** The record's whole data pb (ceil(io_size*512/pbs) * pbs bytes); empty for a discard. */
  data: Uint8Array;
  /** The logical payload: io_size * 512 bytes of `data` (normal, padding); empty for a discard. */
  payload: Uint8Array;
  /**
   * Byte position of `data` in the stream it was read from (set by `WlogReader`), so that a
   * consumer can read the data again from a file instead of keeping it.
   */
  streamOffset?: number;
}

/** A logpack: header block, decoded header and the records' data, in record order. */
export interface Logpack {
  header: LogpackHeader;
  /** The sealed header pb. */
  block: Uint8Array;
  ios: LogpackIo[];
  /** lsid of the next pack. */
  nextLsid: bigint;
}

/** Options of {@link LogpackBuilder}. */
export interface LogpackBuilderOptions {
  pbs: number;
  salt: number;
  /** lsid of the header block. */
  lsid: bigint;
  /** When given, normal IOs never cross the ring end: padding is inserted (§3.4). */
  ringBufferSize?: bigint;
}

/**
 * Accumulates records into one logpack. `add*` return false when the record does not fit:
 * seal this pack and retry in a new builder at {@link nextLsid}.
 *
 * @example
 * ```ts
 * import { LogpackBuilder } from "./logpack_builder.ts";
 * const builder = new LogpackBuilder({ pbs: 512, salt: 0, lsid: 0n });
 * builder.addNormal(8, new Uint8Array(1024));
 * const pack = builder.seal();
 * if (pack.nextLsid !== 3n) throw new Error("wrong");
 * ```
 */
export class LogpackBuilder {
  readonly #pbs: number;
  readonly #salt: number;
  readonly #lsid: bigint;
  readonly #ringBufferSize: bigint | undefined;
  readonly #maxRecords: number;
  #records: LogRecord[] = [];
  #data: Uint8Array[] = [];
  #totalIoSize = 0;
  #nPadding = 0;

  constructor(options: LogpackBuilderOptions) {
    assert(isValidPbs(options.pbs), "logpack builder pbs must be 512, 1024, 2048 or 4096");
    assert(options.ringBufferSize === undefined || options.ringBufferSize > 0n, "ring size > 0");
    this.#pbs = options.pbs;
    this.#salt = options.salt;
    this.#lsid = options.lsid;
    this.#ringBufferSize = options.ringBufferSize;
    this.#maxRecords = maxRecordsInPack(options.pbs);
  }

  /** Number of records added so far. */
  get recordCount(): number {
    return this.#records.length;
  }
  /** total_io_size so far [pb]. */
  get totalIoSize(): number {
    return this.#totalIoSize;
  }
  /** True when no record has been added. */
  get isEmpty(): boolean {
    return this.#records.length === 0;
  }
  /** True when the header has no free record slot. */
  get isFull(): boolean {
    return this.#records.length >= this.#maxRecords;
  }
  /** lsid of the pack that follows this one (this lsid when empty). */
  get nextLsid(): bigint {
    return this.#records.length === 0 ? this.#lsid : this.#lsid + 1n + BigInt(this.#totalIoSize);
  }

  #append(record: Omit<LogRecord, "lsid" | "lsidLocal">, data: Uint8Array, pbCount: number) {
    const lsidLocal = this.#totalIoSize + 1;
    this.#records.push({ ...record, lsidLocal, lsid: this.#lsid + BigInt(lsidLocal) });
    this.#data.push(data);
    this.#totalIoSize += pbCount;
  }

  /**
   * Adds a normal write of `payload.length / 512` lb at `offsetLb`.
   *
   * @param payload io_size * 512 bytes (1 ≤ io_size ≤ 65535)
   * @param blocks optional whole pb of the IO (payload first); the tail of the last pb is
   *   zero-filled when omitted
   * @returns false if it does not fit (this pack must be sealed first)
   */
  addNormal(offsetLb: number, payload: Uint8Array, blocks?: Uint8Array): boolean {
    assert(payload.length % LOGICAL_BLOCK_SIZE === 0, "payload must be whole lb");
    const ioSize = payload.length / LOGICAL_BLOCK_SIZE;
    assert(ioSize > 0, "normal IO size must be positive");
    assert(ioSize <= MAX_NORMAL_IO_SECTORS, "normal IO size over 65535 lb");
    assert(Number.isSafeInteger(offsetLb) && offsetLb >= 0, "offset must be a safe integer");
    if (this.isFull) return false;
    const pbCount = lbToPbCount(ioSize, this.#pbs);
    assert(blocks === undefined || blocks.length === pbCount * this.#pbs, "IO blocks size");
    if (this.#ringBufferSize !== undefined) {
      assert(BigInt(pbCount) <= this.#ringBufferSize, "an IO must fit in the ring buffer");
      const bioLsid = this.#lsid + 1n + BigInt(this.#totalIoSize);
      const room = this.#ringBufferSize - bioLsid % this.#ringBufferSize;
      if (room < BigInt(pbCount)) {
        const roomPb = Number(room);
        if (this.#totalIoSize + roomPb > TOTAL_IO_SIZE_MAX || this.#nPadding > 0) return false;
        this.#addPaddingRecord(roomPb);
        if (this.isFull) return false;
      }
    }
    if (this.#totalIoSize + pbCount > TOTAL_IO_SIZE_MAX) return false;
    this.#append(
      {
        checksum: payloadChecksum(payload, this.#salt),
        flags: LOG_RECORD_EXIST,
        offset: offsetLb,
        ioSize,
      },
      blocks ?? payload,
      pbCount,
    );
    return true;
  }

  /**
   * Adds a discard of `ioSizeLb` lb at `offsetLb` (no data, no padding).
   *
   * @returns false when the header is full
   */
  addDiscard(offsetLb: number, ioSizeLb: number): boolean {
    assert(ioSizeLb > 0 && ioSizeLb <= MAX_DISCARD_IO_SECTORS, "discard size out of range");
    assert(Number.isSafeInteger(offsetLb) && offsetLb >= 0, "offset must be a safe integer");
    if (this.isFull) return false;
    this.#append(
      {
        checksum: 0,
        flags: LOG_RECORD_EXIST | LOG_RECORD_DISCARD,
        offset: offsetLb,
        ioSize: ioSizeLb,
      },
      new Uint8Array(0),
      0,
    );
    return true;
  }

  /**
   * Adds a padding record of `sizePb` pb (0 allowed, as walb-tools' generator does).
   *
   * @param blocks optional padding contents (sizePb * pbs bytes); zero-filled when omitted
   * @returns false when the header is full, a padding is already there, or the size does not fit
   */
  addPadding(sizePb: number, blocks?: Uint8Array): boolean {
    assert(Number.isSafeInteger(sizePb) && sizePb >= 0, "padding size must be >= 0");
    assert(blocks === undefined || blocks.length === sizePb * this.#pbs, "padding blocks size");
    if (this.isFull || this.#nPadding > 0) return false;
    if (this.#totalIoSize + sizePb > TOTAL_IO_SIZE_MAX) return false;
    if ((sizePb * this.#pbs) / LOGICAL_BLOCK_SIZE > MAX_NORMAL_IO_SECTORS) return false;
    this.#addPaddingRecord(sizePb, blocks);
    return true;
  }

  #addPaddingRecord(sizePb: number, blocks?: Uint8Array): void {
    this.#nPadding++;
    this.#append(
      {
        checksum: 0,
        flags: LOG_RECORD_EXIST | LOG_RECORD_PADDING,
        offset: 0,
        ioSize: (sizePb * this.#pbs) / LOGICAL_BLOCK_SIZE,
      },
      blocks ?? new Uint8Array(sizePb * this.#pbs),
      sizePb,
    );
  }

  /** The header as it stands (checksum 0 until sealed). */
  header(): LogpackHeader {
    return {
      checksum: 0,
      sectorType: SECTOR_TYPE_LOGPACK,
      totalIoSize: this.#totalIoSize,
      logpackLsid: this.#lsid,
      nRecords: this.#records.length,
      nPadding: this.#nPadding,
      records: this.#records.map((r) => ({ ...r })),
    };
  }

  /**
   * Seals the pack: encodes the header block with its checksum, zero-fills each record's
   * last pb, and checks the result decodes as a valid pack.
   */
  seal(): Logpack {
    assert(this.#records.length > 0, "cannot seal an empty logpack");
    const header = this.header();
    const block = encodeLogpackHeader(header, { pbs: this.#pbs, salt: this.#salt });
    const sealed = checkLogpackHeader(block, {
      pbs: this.#pbs,
      salt: this.#salt,
      expectedLsid: this.#lsid,
    });
    const ios: LogpackIo[] = this.#records.map((record, i) => {
      const source = this.#data[i]!;
      if (record.flags & LOG_RECORD_DISCARD) {
        return { record: sealed.records[i]!, data: source, payload: source };
      }
      const size = lbToPbCount(record.ioSize, this.#pbs) * this.#pbs;
      let data = source;
      if (source.length !== size) {
        data = new Uint8Array(size);
        data.set(source);
      }
      const payload = data.subarray(0, record.ioSize * LOGICAL_BLOCK_SIZE);
      return { record: sealed.records[i]!, data, payload };
    });
    return { header: sealed, block, ios, nextLsid: nextLsidOf(sealed) };
  }
}
