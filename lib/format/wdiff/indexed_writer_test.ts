import { assertEquals } from "../../testing/assert.ts";
import { BufferedWriter, MemorySink } from "../../io/stream.ts";
import { AddressMap } from "./address_map.ts";
import type { DiffRecord } from "./diff_record.ts";
import {
  encodeIndexRecord,
  INDEX_RECORD_SIZE,
  type IndexRecord,
  splitAligned,
} from "./indexed_format.ts";
import { IndexedWdiffWriter } from "./indexed_writer.ts";
import { seededRandom, testSeed } from "./mem_diff_testing.ts";
import { flagsOfKind } from "./record.ts";

/** §5.5 step 4 piece by piece: each aligned piece removes what it overlaps, re-split. */
function referenceIndex(records: readonly DiffRecord[], maxIoBlocks: number): IndexRecord[] {
  const index = new AddressMap<IndexRecord>();
  const insertPart = (old: IndexRecord, start: number, end: number) => {
    for (const part of splitAligned(start, end - start, maxIoBlocks)) {
      index.insert({
        ...old,
        ioAddress: part.address,
        ioBlocks: part.blocks,
        ioOffset: old.ioOffset + (part.address - old.ioAddress),
      });
    }
  };
  for (const record of records) {
    for (const piece of splitAligned(record.ioAddress, record.ioBlocks, maxIoBlocks)) {
      const start = piece.address;
      const end = start + piece.blocks;
      for (const old of index.removeOverlapping(start, end)) {
        if (old.ioAddress < start) insertPart(old, old.ioAddress, start);
        if (old.ioAddress + old.ioBlocks > end) insertPart(old, end, old.ioAddress + old.ioBlocks);
      }
      index.insert({
        ioAddress: start,
        ioBlocks: piece.blocks,
        flags: flagsOfKind(record.kind),
        compressionType: 0,
        dataOffset: 32,
        dataSize: 0,
        ioOffset: start - record.ioAddress,
        origBlocks: 0,
        reserved2: 0,
        ioChecksum: 0,
        recChecksum: 0,
      });
    }
  }
  return [...index.values()];
}

Deno.test("IndexedWdiffWriter indexes as piece-by-piece newest-wins insertion (seeded)", async () => {
  const seed = testSeed("IndexedWdiffWriter index");
  const random = seededRandom(seed);
  for (const maxIoBlocks of [2048, 16, 0]) {
    const records: DiffRecord[] = Array.from({ length: 400 }, () => ({
      ioAddress: Math.floor(random() * 3000),
      ioBlocks: 1 + Math.floor(random() * random() * 700),
      kind: random() < 0.5 ? "discard" : "allZero",
      data: null,
    }));
    const sink = new MemorySink();
    const writer = new IndexedWdiffWriter(new BufferedWriter(sink), { maxIoBlocks });
    for (const record of records) await writer.add(record);
    await writer.close();
    const expected = referenceIndex(records, maxIoBlocks);
    const bytes = new Uint8Array(expected.length * INDEX_RECORD_SIZE);
    expected.forEach((piece, i) => encodeIndexRecord(piece, bytes, i * INDEX_RECORD_SIZE));
    const output = sink.bytes();
    const superSize = 24;
    assertEquals(
      output.subarray(output.length - superSize - bytes.length, output.length - superSize),
      bytes,
      `seed ${seed} max ${maxIoBlocks}`,
    );
  }
});
