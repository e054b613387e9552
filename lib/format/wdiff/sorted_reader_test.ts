import { assertEquals, assertThrows, VECTORS_DIR } from "../../testing/assert.ts";
import { ChecksumMismatchError } from "../../errors.ts";
import { BufferedReader, MemorySource } from "../../io/stream.ts";
import {
  decodePackRecords,
  decodePackRecordsReusing,
  type RawPack,
  ScratchBuffer,
  SortedWdiffReader,
} from "./sorted_reader.ts";

async function packsOf(path: string): Promise<RawPack[]> {
  const bytes = await Deno.readFile(path);
  const reader = await SortedWdiffReader.open(new BufferedReader(new MemorySource(bytes)));
  const packs: RawPack[] = [];
  for await (const pack of reader.packs()) packs.push(pack);
  return packs;
}

const NAMES = ["none", "snappy", "gzip", "lzma", "lz4", "zstd"].map((c) => `merged.${c}.wdiff`);

Deno.test("decodePackRecordsReusing() gives decodePackRecords' records, one at a time", async () => {
  for (const name of [...NAMES, "base-2M.full.sorted.wdiff"]) {
    const scratch = new ScratchBuffer();
    for (const pack of await packsOf(`${VECTORS_DIR}${name}`)) {
      const expected = decodePackRecords(pack);
      let index = 0;
      for (const record of decodePackRecordsReusing(pack, scratch)) {
        // Compared before the next record reuses the scratch buffer.
        assertEquals(record, expected[index++], `${name} record ${index}`);
      }
      assertEquals(index, expected.length);
    }
  }
});

Deno.test("decodePackRecordsReusing() verifies each record's checksum before yielding it", async () => {
  const [pack] = await packsOf(`${VECTORS_DIR}merged.snappy.wdiff`);
  const tampered = { ...pack!, payload: pack!.payload.slice() };
  const records = tampered.header.records;
  const target = records.findLastIndex((record) => record.dataSize > 0);
  const at = records[target]!.dataOffset;
  tampered.payload[at] = tampered.payload[at]! ^ 1;
  const decoded = decodePackRecordsReusing(tampered, new ScratchBuffer());
  for (let i = 0; i < target; i++) decoded.next(); // the records before it are fine
  assertThrows(() => decoded.next(), ChecksumMismatchError);
});

Deno.test("SortedWdiffReader.packs({ reusePayload }) reads each payload into one reused buffer", async () => {
  for (const name of [...NAMES, "base-2M.full.sorted.wdiff"]) {
    const expected = await packsOf(`${VECTORS_DIR}${name}`);
    const bytes = await Deno.readFile(`${VECTORS_DIR}${name}`);
    const reader = await SortedWdiffReader.open(new BufferedReader(new MemorySource(bytes)));
    const buffers = new Set<ArrayBufferLike>();
    let index = 0;
    for await (const pack of reader.packs({ reusePayload: true })) {
      // Compared before the next pack reuses the buffer.
      assertEquals(pack, expected[index++], `${name} pack ${index}`);
      buffers.add(pack.payload.buffer);
    }
    assertEquals(index, expected.length);
    assertEquals(buffers.size <= Math.max(1, index - 1), true, `${name}: buffers reused`);
  }
});

Deno.test("SortedWdiffReader.packs({ allocatePayload }) reads payloads into the given arrays", async () => {
  const name = "merged.snappy.wdiff";
  const expected = await packsOf(`${VECTORS_DIR}${name}`);
  const bytes = await Deno.readFile(`${VECTORS_DIR}${name}`);
  const reader = await SortedWdiffReader.open(new BufferedReader(new MemorySource(bytes)));
  const given: Uint8Array[] = [];
  const allocatePayload = (size: number) => {
    const payload = new Uint8Array(size + 100).subarray(50, 50 + size);
    given.push(payload);
    return payload;
  };
  let index = 0;
  for await (const pack of reader.packs({ allocatePayload })) {
    assertEquals(pack, expected[index], `${name} pack ${index}`);
    assertEquals(pack.payload === given[index], true, "the given array");
    index++;
  }
  assertEquals(index, expected.length);
});

Deno.test("decodePackRecords({ lazy, shareRaw }) gives raw data as views of the payload", async () => {
  for (const name of NAMES) {
    for (const pack of await packsOf(`${VECTORS_DIR}${name}`)) {
      const expected = decodePackRecords(pack);
      const lazy = decodePackRecords(pack, { lazy: true, shareRaw: true });
      for (const [i, record] of lazy.entries()) {
        assertEquals(record.data, expected[i]!.data, `${name} record ${i}`);
        const stored = pack.header.records[i]!;
        if (record.kind === "normal" && stored.compressionType === 0) {
          assertEquals(record.data!.buffer === pack.payload.buffer, true, "a view");
        }
      }
    }
  }
});
