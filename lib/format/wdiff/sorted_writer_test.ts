import { assert, assertEquals } from "../../testing/assert.ts";
import { CompressionType } from "../../codec/codec.ts";
import { storeData } from "./stored_data.ts";
import { checksum } from "../checksum/checksum.ts";
import { seededPrng } from "../../testing/random.ts";
import { LazyDataRecord } from "./lazy_record.ts";
import { reusableStoredForm, storeDiffRecord } from "./sorted_writer.ts";

function lazyRecord(data: Uint8Array, type: number, tamper = false) {
  const stored = storeData(data, { type: type as 0 | 2, level: 0 });
  const bytes = tamper ? stored.stored.subarray(1) : stored.stored;
  let loads = 0;
  const record = new LazyDataRecord(8, data.length / 512, () => (loads++, data), {
    compressionType: stored.compressionType,
    stored: bytes,
    checksum: stored.checksum,
  });
  return { record, stored, loads: () => loads };
}

Deno.test("storeDiffRecord() copies the stored form of a same-codec lazy record", () => {
  const data = new Uint8Array(4096).fill(3);
  const { record, stored, loads } = lazyRecord(data, CompressionType.snappy);
  const snappy = { type: CompressionType.snappy, level: 0 } as const;
  assert(reusableStoredForm(record, snappy) === record.storedForm, "reused");
  const result = storeDiffRecord(record, snappy);
  assert(result.stored === record.storedForm!.stored, "stored bytes copied, not recompressed");
  assertEquals(result.record.checksum, stored.checksum);
  assertEquals(result.record.dataSize, stored.stored.length);
  assertEquals(loads(), 0, "data never decompressed");
});

Deno.test("reusableStoredForm() refuses another codec or level, slices and bad sizes", () => {
  const data = new Uint8Array(4096).fill(3);
  const { record } = lazyRecord(data, CompressionType.snappy);
  assertEquals(reusableStoredForm(record, { type: CompressionType.lz4, level: 0 }), undefined);
  assertEquals(reusableStoredForm(record, { type: CompressionType.snappy, level: 1 }), undefined);
  assertEquals(
    reusableStoredForm(record.slice(8, 9), { type: CompressionType.snappy, level: 0 }),
    undefined,
  );
  const plain = { type: CompressionType.none, level: 0 } as const;
  assert(reusableStoredForm(lazyRecord(data, 0).record, plain) !== undefined, "none reused");
  // An uncompressed record of the wrong length is loaded (and reported) instead.
  assertEquals(reusableStoredForm(lazyRecord(data, 0, true).record, plain), undefined);
  const plainRecord = { ioAddress: 0, ioBlocks: 8, kind: "normal" as const, data };
  assertEquals(reusableStoredForm(plainRecord, plain), undefined);
});

Deno.test("SortedWdiffWriter onPackWritten reports each pack's records once written", async () => {
  const { BufferedWriter, MemorySink } = await import("../../io/stream.ts");
  const { SortedWdiffWriter } = await import("./sorted_writer.ts");
  for (const variant of ["A", "B"] as const) {
    const sink = new MemorySink();
    const reported: number[][] = [];
    const writer = new SortedWdiffWriter(new BufferedWriter(sink, 4096), {
      variant,
      onPackWritten: (records) => reported.push(records.map((r) => r.ioAddress)),
    });
    for (let i = 0; i < 200; i++) {
      const data = new Uint8Array(512).fill(i);
      await writer.add({ ioAddress: i, ioBlocks: 1, kind: "normal", data });
    }
    await writer.close();
    assertEquals(reported.flat(), [...Array(200).keys()], variant);
    assertEquals(reported.map((r) => r.length), [127, 73], variant);
  }
});

Deno.test("storeDiffRecord() stores a shared raw record raw with its known checksum", () => {
  const data = seededPrng("storeDiffRecord shared raw").bytes(4096); // incompressible
  const sum = checksum(data, 0);
  // Its data is its stored bytes (as decodePackRecords gives with shareRaw).
  const shared = new LazyDataRecord(8, 8, () => data, {
    compressionType: 0,
    stored: data,
    checksum: sum,
  });
  const stored = storeDiffRecord(shared, { type: CompressionType.snappy, level: 0 });
  assertEquals(stored.record.compressionType, 0);
  assertEquals(stored.record.checksum, sum);
  assert(stored.stored === data, "stored as is");
  // A known sum is taken as given (here deliberately off by one, to see that it is used).
  const marked = new LazyDataRecord(8, 8, () => data, {
    compressionType: 0,
    stored: data,
    checksum: (sum + 1) >>> 0,
  });
  assertEquals(
    storeDiffRecord(marked, { type: CompressionType.snappy, level: 0 }).record.checksum,
    (sum + 1) >>> 0,
  );
  // A copy of the data is summed again.
  const copied = new LazyDataRecord(8, 8, () => data.slice(), {
    compressionType: 0,
    stored: data,
    checksum: (sum + 1) >>> 0,
  });
  assertEquals(
    storeDiffRecord(copied, { type: CompressionType.snappy, level: 0 }).record.checksum,
    sum,
  );
});
