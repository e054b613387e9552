/**
 * Streaming reader of wlog files and streams (device-and-wlog.md §4.2): the file header,
 * then packs with their data at contiguous lsids, up to the end block, the first block
 * that is not a valid header at the expected lsid, or EOF. Several wlogs may follow each
 * other in one stream: call {@link WlogReader.readHeader} again after the packs.
 *
 * @module
 */
import { ChecksumMismatchError, CorruptDataError } from "../../errors.ts";
import { LIMITS } from "../../limits.ts";
import type { BufferedReader } from "../../io/stream.ts";
import { lbToPbCount, LOGICAL_BLOCK_SIZE, WALBLOG_HEADER_SIZE } from "./constants.ts";
import {
  inspectLogpackHeader,
  isDiscardRecord,
  isNormalRecord,
  type LogpackHeader,
  logpackSizeProblem,
  nextLsidOf,
  payloadChecksum,
} from "./logpack.ts";
import type { Logpack, LogpackIo } from "./logpack_builder.ts";
import { parseWlogHeader, type WlogHeader } from "./wlog_header.ts";

/**
 * Largest pack data a borrowing reader takes in place from the buffered reader (also at most
 * that reader's buffer size, so the buffer never grows for it).
 */
const IN_PLACE_PACK_SIZE_MAX = 1024 * 1024;

/** Bytes of a record's data in the stream: its pbs (none for a discard). */
function dataSizeOf(record: LogpackIo["record"], pbs: number): number {
  if (isDiscardRecord(record)) return 0;
  // Rule 6 bounds io_size to 65535 lb, so one record's data is at most 32 MiB + one pb.
  return lbToPbCount(Math.min(record.ioSize, LIMITS.normalIoLbMax), pbs) * pbs;
}

/** Smallest arena of a borrowing reader (1 MiB). */
const ARENA_SIZE_MIN = 1024 * 1024;

/** A pack read from a wlog, with the byte offset of its header block in the stream. */
export interface WlogPack extends Logpack {
  offset: number;
}

/** Why {@link WlogReader.packs} stopped. */
export interface WlogStop {
  /** `end`: the end block; `eof`: end of the stream (or a partial block); `invalid`: a block
   * that is not a valid logpack header at the expected lsid. */
  reason: "end" | "eof" | "invalid";
  /** Offset of the block where reading stopped. */
  offset: number;
  /** What was found (empty for `end`). */
  detail: string;
}

/** Options of {@link WlogReader}. */
export interface WlogReaderOptions {
  /**
   * Verify each normal record's payload checksum and throw ChecksumMismatchError on a
   * mismatch (default true). With false, callers check `payloadChecksum` themselves.
   */
  verifyPayload?: boolean;
  /**
   * Give each IO's data as a view into a buffer the reader reuses for the next pack (default
   * false: an owned copy per IO). The views of a pack stay valid until the next pack is read.
   * Why: a streaming consumer (the indexed conversion) writes each IO out at once, and a fresh
   * array per IO (268 MB for the issue #3 wlogs) cost page faults and collections.
   */
  borrowData?: boolean;
}

/**
 * Reads one or more concatenated wlogs from a {@link BufferedReader}.
 *
 * @example
 * ```ts
 * import { BufferedReader, BufferedWriter, MemorySink, MemorySource } from "../../io/stream.ts";
 * import { WlogReader, WlogWriter, LogpackBuilder } from "./mod.ts";
 * const sink = new MemorySink();
 * const writer = new WlogWriter(new BufferedWriter(sink));
 * await writer.writeHeader({ salt: 1, pbs: 512, uuid: new Uint8Array(16), beginLsid: 0n, endLsid: 2n ** 64n - 1n });
 * const builder = new LogpackBuilder({ pbs: 512, salt: 1, lsid: 0n });
 * builder.addNormal(0, new Uint8Array(512).fill(7));
 * await writer.writePack(builder.seal());
 * await writer.close();
 * const wlog = new WlogReader(new BufferedReader(new MemorySource(sink.bytes())));
 * const header = await wlog.readHeader();
 * let count = 0;
 * for await (const pack of wlog.packs()) count += pack.ios.length;
 * if (header === null || count !== 1 || wlog.stop?.reason !== "end" || wlog.endLsid !== 2n) {
 *   throw new Error("wrong");
 * }
 * ```
 */
export class WlogReader {
  readonly #reader: BufferedReader;
  readonly #verifyPayload: boolean;
  readonly #borrowData: boolean;
  /** With borrowData: the buffer IO data of the current pack is read into, and its use. */
  #arena = new Uint8Array(0);
  #arenaUsed = 0;
  #header: WlogHeader | undefined;
  #endLsid = 0n;
  #stop: WlogStop | undefined;
  #reading = false;

  constructor(reader: BufferedReader, options: WlogReaderOptions = {}) {
    this.#reader = reader;
    this.#verifyPayload = options.verifyPayload ?? true;
    this.#borrowData = options.borrowData ?? false;
  }

  /** True when IO data are views of reused buffers ({@link WlogReaderOptions.borrowData}). */
  get borrowsData(): boolean {
    return this.#borrowData;
  }

  /** Header of the current wlog (after {@link readHeader}). */
  get header(): WlogHeader | undefined {
    return this.#header;
  }

  /** lsid after the last pack read; the header's begin lsid before any pack. */
  get endLsid(): bigint {
    return this.#endLsid;
  }

  /** Why the last {@link packs} loop stopped (undefined while it runs). */
  get stop(): WlogStop | undefined {
    return this.#stop;
  }

  /**
   * Reads and validates the next wlog file header.
   *
   * @returns the header, or null at a clean end of the stream
   * @throws {CorruptDataError} when the stream ends inside the header or it is invalid
   */
  async readHeader(): Promise<WlogHeader | null> {
    if (this.#reading) throw new Error("readHeader() while packs() is running");
    const offset = this.#reader.position;
    const block = await this.#reader.readExact(WALBLOG_HEADER_SIZE, "wlog header");
    if (block === null) return null;
    const header = parseWlogHeader(block, offset);
    this.#header = header;
    this.#endLsid = header.beginLsid;
    this.#stop = undefined;
    return header;
  }

  /**
   * Yields the packs of the current wlog in lsid order, each with its records' data
   * (owned copies). Stops at the end block, an invalid block or EOF; see {@link stop}.
   *
   * @throws {CorruptDataError} when the stream ends inside a pack's data or a valid header's
   *   sizes disagree with its records
   * @throws {ChecksumMismatchError} when a payload checksum fails (unless disabled)
   */
  async *packs(): AsyncGenerator<WlogPack, void, undefined> {
    const header = this.#header;
    if (header === undefined) throw new Error("packs() before readHeader()");
    const { pbs, salt } = header;
    this.#reading = true;
    this.#stop = undefined;
    try {
      for (;;) {
        const offset = this.#reader.position;
        let view: Uint8Array | null;
        try {
          view = await this.#reader.readExact(pbs, "logpack header");
        } catch (error) {
          if (!(error instanceof CorruptDataError)) throw error;
          this.#stop = { reason: "eof", offset, detail: error.message };
          return;
        }
        if (view === null) {
          this.#stop = { reason: "eof", offset, detail: "end of stream" };
          return;
        }
        const block = view.slice();
        const inspection = inspectLogpackHeader(block, {
          pbs,
          salt,
          offset,
          expectedLsid: this.#endLsid,
        });
        if (inspection.kind === "end") {
          this.#stop = { reason: "end", offset, detail: "" };
          return;
        }
        if (inspection.kind === "invalid") {
          this.#stop = { reason: "invalid", offset, detail: inspection.problem };
          return;
        }
        const packHeader = inspection.header;
        const sizeProblem = logpackSizeProblem(packHeader, pbs);
        if (sizeProblem !== undefined) {
          throw new CorruptDataError("logpack header", offset, sizeProblem);
        }
        this.#arenaUsed = 0; // the previous pack's views are no longer used
        const ios =
          (this.#borrowData ? await this.#readPackInPlace(packHeader, pbs, salt) : null) ??
            await this.#readIos(packHeader, pbs, salt);
        const nextLsid = nextLsidOf(packHeader);
        this.#endLsid = nextLsid;
        yield { header: packHeader, block, ios, nextLsid, offset };
      }
    } finally {
      this.#reading = false;
    }
  }

  async #readIos(header: LogpackHeader, pbs: number, salt: number): Promise<LogpackIo[]> {
    const ios: LogpackIo[] = [];
    for (let i = 0; i < header.nRecords; i++) {
      ios.push(await this.#readIo(header.records[i]!, i, pbs, salt));
    }
    return ios;
  }

  /**
   * With borrowData, the IOs of a pack whose data fits {@link IN_PLACE_PACK_SIZE_MAX}: one read
   * of the whole data, the IOs' data views into the buffered reader's buffer (valid until the
   * next read, as the arena's until the next pack). Why: most IOs are smaller than the direct
   * read size of `readExactInto`, and copying them from the reader's buffer into the arena was
   * a second pass over the data. Null when the data is larger or the stream ends inside it
   * (the IO by IO reads then report where).
   */
  async #readPackInPlace(
    header: LogpackHeader,
    pbs: number,
    salt: number,
  ): Promise<LogpackIo[] | null> {
    let total = 0;
    for (const record of header.records) total += dataSizeOf(record, pbs);
    if (total > Math.min(IN_PLACE_PACK_SIZE_MAX, this.#reader.bufferSize)) return null;
    const start = this.#reader.position;
    let all: Uint8Array | null = new Uint8Array(0);
    if (total > 0) {
      try {
        all = await this.#reader.readExact(total, "logpack data");
      } catch (error) {
        if (!(error instanceof CorruptDataError)) throw error;
        return null; // nothing consumed
      }
    }
    if (all === null) return null;
    const ios: LogpackIo[] = [];
    let at = 0;
    for (let i = 0; i < header.nRecords; i++) {
      const record = header.records[i]!;
      const size = dataSizeOf(record, pbs);
      ios.push(this.#ioOf(record, i, salt, all.subarray(at, at + size), start + at));
      at += size;
    }
    return ios;
  }

  /** `size` bytes of the arena for the current pack (a bigger arena when it is full). */
  #borrow(size: number): Uint8Array {
    if (this.#arenaUsed + size > this.#arena.length) {
      // Earlier IOs of this pack keep the old arena alive through their views.
      this.#arena = new Uint8Array(Math.max(size, 2 * this.#arena.length, ARENA_SIZE_MIN));
      this.#arenaUsed = 0;
    }
    const view = this.#arena.subarray(this.#arenaUsed, this.#arenaUsed + size);
    this.#arenaUsed += size;
    return view;
  }

  async #readIo(
    record: LogpackIo["record"],
    index: number,
    pbs: number,
    salt: number,
  ): Promise<LogpackIo> {
    const size = dataSizeOf(record, pbs);
    const offset = this.#reader.position;
    if (isDiscardRecord(record)) return this.#ioOf(record, index, salt, new Uint8Array(0), offset);
    const data = this.#borrowData ? this.#borrow(size) : new Uint8Array(size);
    if (size > 0) await this.#reader.readExactInto(data, `log record ${index} data`);
    return this.#ioOf(record, index, salt, data, offset);
  }

  /** The IO of `record` with its `data` read at stream `offset`; verifies its checksum. */
  #ioOf(
    record: LogpackIo["record"],
    index: number,
    salt: number,
    data: Uint8Array,
    offset: number,
  ): LogpackIo {
    if (isDiscardRecord(record)) return { record, data, payload: data, streamOffset: offset };
    const payload = data.subarray(0, record.ioSize * LOGICAL_BLOCK_SIZE);
    if (this.#verifyPayload && isNormalRecord(record)) {
      const actual = payloadChecksum(payload, salt);
      if (actual !== record.checksum) {
        throw new ChecksumMismatchError(
          `log record ${index} (lsid ${record.lsid}) payload`,
          offset,
          actual,
          record.checksum,
        );
      }
    }
    return { record, data, payload, streamOffset: offset };
  }
}

/**
 * Reads the next wlog file header of `reader`: a shortcut for a fresh {@link WlogReader}.
 *
 * @returns the header, or null at a clean end of the stream
 */
export async function readWlogHeader(reader: BufferedReader): Promise<WlogHeader | null> {
  return await new WlogReader(reader).readHeader();
}
