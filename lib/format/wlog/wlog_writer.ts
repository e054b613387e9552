/**
 * Writer of wlog files (device-and-wlog.md §4): the header, packs at contiguous lsids, and
 * the end block on close.
 *
 * @module
 */
import { CorruptDataError } from "../../errors.ts";
import type { BufferedWriter } from "../../io/stream.ts";
import { lbToPbCount } from "./constants.ts";
import { buildEndBlock, checkLogpackHeader, isDiscardRecord } from "./logpack.ts";
import type { Logpack } from "./logpack_builder.ts";
import {
  buildWlogHeader,
  parseWlogHeader,
  type WlogHeader,
  type WlogHeaderInit,
} from "./wlog_header.ts";

/**
 * Writes one wlog to a {@link BufferedWriter}. Packs must follow each other in lsid
 * (`WlogWriter.writePack` of walb-tools enforces the same); empty packs are refused.
 *
 * @example
 * ```ts
 * import { BufferedWriter, MemorySink } from "../../io/stream.ts";
 * import { WlogWriter } from "./wlog_writer.ts";
 * const sink = new MemorySink();
 * const writer = new WlogWriter(new BufferedWriter(sink));
 * await writer.writeHeader({ salt: 0, pbs: 512, uuid: new Uint8Array(16), beginLsid: 5n, endLsid: 6n });
 * await writer.close();
 * if (sink.bytes().length !== 4096 + 512) throw new Error("wrong");
 * ```
 */
export class WlogWriter {
  readonly #writer: BufferedWriter;
  #header: WlogHeader | undefined;
  #endLsid = 0n;
  #closed = false;

  constructor(writer: BufferedWriter) {
    this.#writer = writer;
  }

  /** lsid the next pack must have. */
  get endLsid(): bigint {
    return this.#endLsid;
  }

  /** The header written. */
  get header(): WlogHeader | undefined {
    return this.#header;
  }

  /** Builds, checks and writes the file header. */
  async writeHeader(init: WlogHeaderInit): Promise<WlogHeader> {
    if (this.#header !== undefined) throw new Error("wlog header written twice");
    const block = buildWlogHeader(init);
    const header = parseWlogHeader(block);
    await this.#writer.write(block);
    this.#header = header;
    this.#endLsid = header.beginLsid;
    return header;
  }

  /**
   * Writes a pack: its header block, then each data record's pb. The block is re-validated
   * at the expected lsid with the file's salt and pbs before it is written.
   *
   * @throws {CorruptDataError} when the pack is invalid, empty, out of lsid order, or its
   *   data does not match its records
   */
  async writePack(pack: Logpack): Promise<void> {
    const header = this.#header;
    if (header === undefined || this.#closed) throw new Error("writePack() outside a wlog");
    const offset = this.#writer.position;
    const checked = checkLogpackHeader(pack.block, {
      pbs: header.pbs,
      salt: header.salt,
      offset,
      expectedLsid: this.#endLsid,
    });
    if (checked.nRecords === 0) {
      throw new CorruptDataError("logpack to write", offset, "pack has no record");
    }
    if (pack.ios.length !== checked.nRecords) {
      throw new CorruptDataError(
        "logpack to write",
        offset,
        `${pack.ios.length} IOs for ${checked.nRecords} records`,
      );
    }
    let total = 0;
    for (let i = 0; i < checked.nRecords; i++) {
      const record = checked.records[i]!;
      const data = pack.ios[i]!.data;
      const expected = isDiscardRecord(record)
        ? 0
        : lbToPbCount(record.ioSize, header.pbs) * header.pbs;
      if (data.length !== expected) {
        throw new CorruptDataError(
          "logpack to write",
          offset,
          `record ${i} data is ${data.length} bytes, expected ${expected}`,
        );
      }
      total += expected / header.pbs;
    }
    if (total !== checked.totalIoSize) {
      throw new CorruptDataError(
        "logpack to write",
        offset,
        `total_io_size is ${checked.totalIoSize}, records hold ${total} pb`,
      );
    }
    await this.#writer.write(pack.block);
    for (const io of pack.ios) if (io.data.length > 0) await this.#writer.write(io.data);
    this.#endLsid = checked.logpackLsid + 1n + BigInt(checked.totalIoSize);
  }

  /** Writes the end block and flushes the buffered writer. */
  async close(): Promise<void> {
    const header = this.#header;
    if (header === undefined) throw new Error("close() before writeHeader()");
    if (this.#closed) return;
    this.#closed = true;
    await this.#writer.write(buildEndBlock(header.pbs, header.salt));
    await this.#writer.flush();
  }
}
