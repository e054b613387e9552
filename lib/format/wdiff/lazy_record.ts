/**
 * A normal diff record whose data is decompressed on first use. Why: a merge of wdiffs
 * overwrites most of its input (the issue #3 merge keeps 22 % of the bytes it reads), and
 * decompressing records that no output piece uses was a fifth of its time. The stored bytes'
 * checksum is verified when the record is read, as before; only decompression is deferred, so
 * a record that fails to decompress is reported when (and only if) its data is used.
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { LIMITS } from "../../limits.ts";
import type { DiffRecord } from "./diff_record.ts";
import { releaseWholeBuffer } from "./buffer_release.ts";

/**
 * The verified stored form a record was read in (codec, bytes, checksum), so a writer whose
 * codec is the same can copy it instead of decompressing and compressing again.
 */
export interface StoredForm {
  compressionType: number;
  stored: Uint8Array;
  checksum: number;
}

/**
 * A normal record with lazily loaded data; {@link slice} keeps pieces lazy too.
 *
 * @example
 * ```ts
 * import { LazyDataRecord } from "./lazy_record.ts";
 * const loads: number[] = [];
 * const record = new LazyDataRecord(8, 2, () => (loads.push(1), new Uint8Array(1024).fill(5)));
 * const piece = record.slice(9, 10);
 * const loadCount = () => loads.length;
 * if (loadCount() !== 0) throw new Error("loaded early");
 * if (piece.data[0] !== 5 || piece.data.length !== 512) throw new Error("wrong piece");
 * if (record.data.length !== 1024 || loadCount() !== 1) throw new Error("loaded twice");
 * ```
 */
export class LazyDataRecord implements DiffRecord {
  /** Always normal: other kinds carry no data. */
  readonly kind = "normal" as const;
  #load: (() => Uint8Array) | null;
  #data: Uint8Array | null = null;
  #sliced = false;
  #released = false;

  /**
   * @param ioAddress first logical block
   * @param ioBlocks length in logical blocks
   * @param load gives exactly `ioBlocks` × 512 bytes; called at most once
   * @param storedForm the whole record's stored bytes, their checksum verified (never given for
   *   a slice)
   */
  constructor(
    readonly ioAddress: number,
    readonly ioBlocks: number,
    load: () => Uint8Array,
    readonly storedForm?: StoredForm,
  ) {
    this.#load = load;
  }

  /** True once the data was loaded (decompressed). */
  get loaded(): boolean {
    return this.#data !== null;
  }

  /** The data, loaded on first access. */
  get data(): Uint8Array {
    assert(!this.#released, "lazy record data used after releaseData()");
    if (this.#data === null) {
      const data = this.#load!();
      assert(data.length === this.ioBlocks * LIMITS.lbSize, "lazy record data size differs");
      this.#data = data;
      this.#load = null;
    }
    return this.#data;
  }

  /**
   * The blocks `[startLb, endLb)` as a lazy record sharing this record's data.
   *
   * @param startLb first block, inside the record
   * @param endLb end block (exclusive), inside the record
   */
  slice(startLb: number, endLb: number): LazyDataRecord {
    this.#sliced = true;
    const from = (startLb - this.ioAddress) * LIMITS.lbSize;
    const to = (endLb - this.ioAddress) * LIMITS.lbSize;
    return new LazyDataRecord(startLb, endLb - startLb, () => this.data.subarray(from, to));
  }

  /**
   * Frees the loaded data now, when this record alone owns it: a whole record (it has a stored
   * form) never sliced, loaded by its own decoder. The data must not be used afterwards. Why:
   * a merge that re-encodes (snappy to lz4 or none) loads every surviving record, and as
   * garbage the loaded arrays waited for V8 (lz4:0:1 peaked at 220–279 MiB).
   */
  releaseData(): void {
    if (this.#data === null || this.#sliced || this.storedForm === undefined) return;
    // Raw data shared with the stored bytes is the payload's, not this record's to free.
    if (this.#data !== this.storedForm.stored) releaseWholeBuffer(this.#data);
    this.#data = null;
    this.#released = true;
  }
}
