import { MemoryRandomAccess } from "../../io/random_access.ts";
import { BufferedWriter, MemorySink } from "../../io/stream.ts";
import { assert, assertEquals, toHex } from "../../testing/assert.ts";
import { seededPrng } from "../../testing/random.ts";
import type { DiffRecord } from "./diff_record.ts";
import { IndexedWdiffReader } from "./indexed_reader.ts";
import { IndexedWdiffWriter } from "./indexed_writer.ts";
import { LazyDataRecord } from "./lazy_record.ts";
import { DEFAULT_COMPRESSION, storeData } from "./stored_data.ts";

Deno.test("IndexedWdiffReader.lazyRecords() gives records()'s data, whole images as stored", async () => {
  const prng = seededPrng("lazyRecords");
  const sink = new MemorySink();
  const writer = new IndexedWdiffWriter(new BufferedWriter(sink), {
    uuid: new Uint8Array(16),
    maxIoBlocks: 64,
    compression: DEFAULT_COMPRESSION,
  });
  const written: DiffRecord[] = [];
  for (let i = 0; i < 40; i++) {
    // Pieces are power-of-two sized and aligned: such a record is stored whole unless overwritten.
    const ioBlocks = 2 ** prng.int(7);
    const data = prng.chance(0.5)
      ? prng.bytes(ioBlocks * 512)
      : new Uint8Array(ioBlocks * 512).map((_, j) => (j >> 4) % 7);
    const ioAddress = prng.int(40) * 64; // aligned: only overwrites split a record
    const record: DiffRecord = { ioAddress, ioBlocks, kind: "normal", data };
    written.push(record);
    await writer.add({ ...record, data: data.slice() });
    if (prng.chance(0.1)) {
      await writer.add({ ioAddress: prng.int(2000), ioBlocks: 8, kind: "discard", data: null });
    }
  }
  // One record nothing overwrites.
  const last: DiffRecord = {
    ioAddress: 50 * 64,
    ioBlocks: 64,
    kind: "normal",
    data: new Uint8Array(64 * 512).map((_, j) => j % 13),
  };
  await writer.add({ ...last, data: last.data!.slice() });
  await writer.close();
  const reader = await IndexedWdiffReader.open(new MemoryRandomAccess(sink.bytes()));
  const plain: DiffRecord[] = [];
  for await (const record of reader.records()) plain.push(record);
  const lazyReader = await IndexedWdiffReader.open(new MemoryRandomAccess(sink.bytes()));
  const lazy: DiffRecord[] = [];
  for await (const record of lazyReader.lazyRecords()) lazy.push(record);
  assertEquals(lazy.length, plain.length);
  let storedCount = 0;
  for (const [i, record] of lazy.entries()) {
    const expected = plain[i]!;
    assertEquals([record.ioAddress, record.ioBlocks, record.kind], [
      expected.ioAddress,
      expected.ioBlocks,
      expected.kind,
    ]);
    if (record instanceof LazyDataRecord && record.storedForm !== undefined) {
      storedCount++;
      const form = storeData(expected.data!, DEFAULT_COMPRESSION);
      assertEquals(toHex(record.storedForm.stored), toHex(form.stored));
      assertEquals(record.storedForm.checksum, form.checksum);
    }
    if (expected.kind === "normal") assertEquals(toHex(record.data!), toHex(expected.data!));
  }
  assert(storedCount > 0, "some records came whole with their stored form");
});
