import { assert, assertEquals } from "../../testing/assert.ts";
import { chunkRecord, MemDiff, sliceRecord } from "./mem_diff.ts";
import {
  checkAgainstModel,
  type ModelBlock,
  modelInsert,
  randomRecord,
  seededRandom,
  stampedRecord,
  testSeed,
} from "./mem_diff_testing.ts";

Deno.test("MemDiff.insert() matches a plain block map model (seeded)", () => {
  const seed = testSeed("MemDiff model");
  const random = seededRandom(seed);
  for (let round = 0; round < 40; round++) {
    const maxBlocks = [0, 1, 8, 16, 2048][round % 5]!;
    const spaceLb = 64 + Math.floor(random() * 2000);
    const diff = new MemDiff({ maxBlocks });
    const model = new Map<number, ModelBlock>();
    const count = 1 + Math.floor(random() * 200);
    for (let id = 1; id <= count; id++) {
      const record = randomRecord(random, id, spaceLb, 64);
      diff.insert(record);
      modelInsert(model, record, id, maxBlocks);
    }
    const records = [...diff.records()];
    checkAgainstModel(records, model, `seed ${seed} round ${round}`);
    assertEquals(diff.recordCount, records.length);
    let dataBytes = 0;
    for (const r of records) dataBytes += r.data?.length ?? 0;
    assertEquals(diff.dataBytes, dataBytes);
  }
});

Deno.test("MemDiff.insert() keeps remainders unchunked and chunks the new record", () => {
  const diff = new MemDiff({ maxBlocks: 4 });
  diff.insert(stampedRecord(1, 0, 4, "normal"));
  diff.insert(stampedRecord(2, 4, 4, "normal"));
  // One record over both chunks: cut in 4-block chunks from its own start (2, 6).
  diff.insert(stampedRecord(3, 2, 10, "discard"));
  const shape = [...diff.records()].map((r) => `${r.ioAddress}+${r.ioBlocks}:${r.kind}`);
  assertEquals(shape.join(" "), "0+2:normal 2+4:discard 6+4:discard 10+2:discard");
  // A small record in the middle of a chunk leaves two unchunked remainders.
  diff.insert(stampedRecord(4, 7, 1, "allZero"));
  const shape2 = [...diff.records()].map((r) => `${r.ioAddress}+${r.ioBlocks}`);
  assertEquals(shape2.join(" "), "0+2 2+4 6+1 7+1 8+2 10+2");
});

Deno.test("MemDiff.takeBefore() yields only final records, in order", () => {
  const diff = new MemDiff({ maxBlocks: 0 });
  for (let i = 0; i < 2000; i++) diff.insert(stampedRecord(i + 1, i * 3, 2, "allZero"));
  const taken = [...diff.takeBefore(3000)];
  assertEquals(taken.length, 1000);
  assertEquals(taken[999]!.ioAddress, 2997);
  assertEquals(diff.recordCount, 1000);
  assertEquals([...diff.takeBefore()].length, 1000);
  assertEquals(diff.recordCount, 0);
});

Deno.test("chunkRecord() and sliceRecord() share the data buffer", () => {
  const record = stampedRecord(7, 10, 5, "normal");
  const chunks = [...chunkRecord(record, 2)];
  assertEquals(chunks.map((c) => `${c.ioAddress}+${c.ioBlocks}`).join(" "), "10+2 12+2 14+1");
  assertEquals(chunks[2]!.data!.buffer, record.data!.buffer);
  assertEquals(sliceRecord(record, 10, 15), record);
  assertEquals([...chunkRecord(record, 0)].length, 1);
});

Deno.test("MemDiff handles many random small records quickly", () => {
  const random = seededRandom(12345);
  const diff = new MemDiff();
  const started = performance.now();
  for (let id = 1; id <= 65536; id++) {
    const address = Math.floor(random() * (1 << 19)) * 8;
    diff.insert({ ioAddress: address, ioBlocks: 8, kind: "allZero", data: null });
  }
  const elapsed = performance.now() - started;
  assert(diff.recordCount > 60000, "most records survive");
  assert(elapsed < 5000, `65536 random inserts took ${elapsed} ms`);
});

Deno.test("MemDiff releaseDropped frees overwritten buffers and keeps every held block (seeded)", () => {
  const seed = testSeed("MemDiff releaseDropped");
  const random = seededRandom(seed);
  for (let round = 0; round < 40; round++) {
    const maxBlocks = [0, 1, 8, 16, 2048][round % 5]!;
    const spaceLb = 64 + Math.floor(random() * 2000);
    const diff = new MemDiff({ maxBlocks, releaseDropped: true });
    const model = new Map<number, ModelBlock>();
    const buffers: ArrayBuffer[] = [];
    const count = 1 + Math.floor(random() * 200);
    for (let id = 1; id <= count; id++) {
      const record = randomRecord(random, id, spaceLb, 64);
      // Each record's data in a buffer of its own, as the wlog reader gives them.
      const owned = record.data === null ? record : { ...record, data: record.data.slice() };
      if (owned.data !== null) buffers.push(owned.data.buffer as ArrayBuffer);
      diff.insert(owned);
      modelInsert(model, record, id, maxBlocks);
    }
    const records = [...diff.records()];
    // Held data was never detached (it would read as empty) and matches the model.
    checkAgainstModel(records, model, `seed ${seed} round ${round}`);
    const held = new Set(records.map((r) => r.data?.buffer));
    for (const buffer of buffers) {
      if (!held.has(buffer)) assert(buffer.detached, `seed ${seed}: a dropped buffer is freed`);
    }
  }
});
