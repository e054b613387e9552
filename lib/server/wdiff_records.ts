/**
 * Records of a wdiff file with decompression deferred to the first use of their data, for the
 * servers' merges (proxy forwarding, archive merge, apply and restore).
 *
 * @module
 */
import type { DiffRecord } from "../format/wdiff/diff_record.ts";
import { decodePackRecords, IndexedWdiffReader, type WdiffReader } from "../format/wdiff/mod.ts";

/**
 * The records of `reader` in order, lazily decompressed: records a merge overwrites are never
 * decompressed, and whole records keep their verified stored bytes, which a writer with the
 * same codec copies (`reusableStoredForm`) instead of compressing them again. Stored
 * checksums are verified as the records are read, as by `records()`.
 *
 * @param reader a sorted or indexed wdiff reader
 * @returns its records, in increasing non-overlapping address order
 */
export async function* lazyRecordsOf(reader: WdiffReader): AsyncGenerator<DiffRecord> {
  if (reader instanceof IndexedWdiffReader) {
    yield* reader.lazyRecords();
    return;
  }
  for await (const pack of reader.packs()) yield* decodePackRecords(pack, { lazy: true });
}
