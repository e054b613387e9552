import { assertRejects } from "../../testing/assert.ts";
import { assertEquals } from "../../testing/assert.ts";
import { CorruptDataError } from "../../errors.ts";
import { applyDiff } from "./apply.ts";
import type { DiffRecord } from "./diff_record.ts";
import { MemDiff } from "./mem_diff.ts";
import { randomRecord, seededRandom, stampedRecord, testSeed } from "./mem_diff_testing.ts";
import { groupPacks, mergeDiffBatches, mergeDiffs } from "./merge.ts";
import { emptyDiffStatistics } from "./stats.ts";

async function* stream(records: readonly DiffRecord[]): AsyncGenerator<DiffRecord> {
  yield* records;
}

async function collect(records: AsyncIterable<DiffRecord>): Promise<DiffRecord[]> {
  const out: DiffRecord[] = [];
  for await (const record of records) out.push(record);
  return out;
}

function shape(records: readonly DiffRecord[]): string[] {
  return records.map((r) => `${r.ioAddress}+${r.ioBlocks}:${r.kind}`);
}

/** Applies records onto an in-memory image, discards as zeros. */
async function applyToImage(image: Uint8Array, records: readonly DiffRecord[]): Promise<void> {
  await applyDiff(records, {
    sizeBytes: image.length,
    write: (offset, data) => Promise.resolve(image.set(data, offset)),
    writeZeroes: (offset, length) => Promise.resolve(void image.fill(0, offset, offset + length)),
  }, { discardPolicy: "zero" });
}

/** A random diff (sorted, non-overlapping) built through a MemDiff. */
function randomDiff(random: () => number, firstId: number, spaceLb: number): DiffRecord[] {
  const diff = new MemDiff({ maxBlocks: [0, 4, 64][Math.floor(random() * 3)]! });
  const count = Math.floor(random() * 60);
  for (let i = 0; i < count; i++) diff.insert(randomRecord(random, firstId + i, spaceLb, 48));
  return [...diff.records()];
}

Deno.test("mergeDiffs() equals sequential MemDiff insertion and sequential apply (seeded)", async () => {
  const seed = testSeed("mergeDiffs model");
  const random = seededRandom(seed);
  for (let round = 0; round < 60; round++) {
    const spaceLb = 32 + Math.floor(random() * 600);
    const inputs = [0, 1, 2].map((k) => randomDiff(random, 1000 * (k + 1), spaceLb));
    const maxBlocks = [0, 1, 3, 16, 2048][round % 5]!;
    const merged = await collect(mergeDiffs(inputs.map(stream), { maxBlocks }));
    const sequential = new MemDiff({ maxBlocks });
    for (const input of inputs) for (const record of input) sequential.insert(record);
    const expected = [...sequential.records()];
    const label = `seed ${seed} round ${round}`;
    assertEquals(shape(merged), shape(expected), label);
    for (const [i, record] of merged.entries()) {
      assertEquals(record.data, expected[i]!.data, `${label}: data of record ${i}`);
    }
    const one = new Uint8Array(spaceLb * 512).fill(0xa5);
    const two = one.slice();
    for (const input of inputs) await applyToImage(one, input);
    await applyToImage(two, merged);
    assertEquals(one, two, `${label}: images`);
  }
});

Deno.test("mergeDiffs() chunks input records from their own start; remainders are not re-chunked", async () => {
  const older = [stampedRecord(1, 0, 5000, "normal")];
  const newer = [stampedRecord(2, 2040, 16, "allZero")];
  const merged = await collect(mergeDiffs([stream(older), stream(newer)], { maxBlocks: 2048 }));
  assertEquals(shape(merged), [
    "0+2040:normal",
    "2040+16:allZero",
    "2056+2040:normal",
    "4096+904:normal",
  ]);
  const unlimited = await collect(mergeDiffs([stream(older), stream(newer)], { maxBlocks: 0 }));
  assertEquals(shape(unlimited), ["0+2040:normal", "2040+16:allZero", "2056+2944:normal"]);
});

Deno.test("mergeDiffs() counts input and output statistics", async () => {
  const input = emptyDiffStatistics();
  const output = emptyDiffStatistics();
  const a = [stampedRecord(1, 0, 8, "normal"), stampedRecord(2, 16, 8, "discard")];
  const b = [stampedRecord(3, 4, 16, "allZero")];
  await collect(mergeDiffs([stream(a), stream(b)], { inputStats: input, outputStats: output }));
  assertEquals([input.normalCount, input.discardCount, input.allZeroCount], [1, 1, 1]);
  assertEquals([output.normalLb, output.allZeroLb, output.discardLb], [4, 16, 4]);
});

Deno.test("mergeDiffs() rejects an input whose records overlap", async () => {
  const bad = [stampedRecord(1, 0, 8, "discard"), stampedRecord(2, 4, 8, "discard")];
  await assertRejects(() => collect(mergeDiffs([stream(bad)])), CorruptDataError);
});

Deno.test("groupPacks() cuts packs at 127 records or 32 MiB of uncompressed data", async () => {
  const big: DiffRecord[] = [];
  for (let i = 0; i < 5; i++) {
    big.push({
      ioAddress: i * 20000,
      ioBlocks: 20000,
      kind: "normal",
      data: new Uint8Array(20000 * 512),
    });
  }
  const sizes: number[] = [];
  for await (const group of groupPacks(stream(big))) sizes.push(group.length);
  assertEquals(sizes, [3, 2]); // 3 × 10 MB fit in 32 MiB, a fourth does not
});

/** `records` as batches of 1..5 records, mixed with single records. */
async function* batched(
  records: readonly DiffRecord[],
  random: () => number,
): AsyncGenerator<DiffRecord | DiffRecord[]> {
  for (let i = 0; i < records.length;) {
    const count = 1 + Math.floor(random() * 5);
    if (count === 1) yield records[i]!;
    else yield records.slice(i, i + count);
    i += count;
  }
}

Deno.test("mergeDiffBatches() over batched inputs gives mergeDiffs' records and statistics (seeded)", async () => {
  const seed = testSeed("mergeDiffBatches");
  const random = seededRandom(seed);
  for (let round = 0; round < 30; round++) {
    const spaceLb = 32 + Math.floor(random() * 600);
    const inputs = [0, 1, 2].map((k) => randomDiff(random, 1000 * (k + 1), spaceLb));
    const maxBlocks = [0, 1, 3, 16][round % 4]!;
    const plainStats = emptyDiffStatistics();
    const plainInput = emptyDiffStatistics();
    const expected = await collect(
      mergeDiffs(inputs.map(stream), {
        maxBlocks,
        outputStats: plainStats,
        inputStats: plainInput,
      }),
    );
    const batchStats = emptyDiffStatistics();
    const batchInput = emptyDiffStatistics();
    const batchSize = 1 + (round % 7);
    const merged: DiffRecord[] = [];
    const batches = mergeDiffBatches(
      inputs.map((input) => batched(input, random)),
      { maxBlocks, outputStats: batchStats, inputStats: batchInput },
      batchSize,
    );
    for await (const batch of batches) {
      assertEquals(batch.length >= 1 && batch.length <= batchSize, true, "batch size");
      merged.push(...batch);
    }
    const label = `seed ${seed} round ${round}`;
    assertEquals(shape(merged), shape(expected), label);
    for (const [i, record] of merged.entries()) {
      assertEquals(record.data, expected[i]!.data, `${label}: data of record ${i}`);
    }
    assertEquals(batchStats, plainStats, label);
    assertEquals(batchInput, plainInput, label);
    const groups = await collect2(groupPacks(mergeDiffBatches(inputs.map(stream), { maxBlocks })));
    const plainGroups = await collect2(groupPacks(stream(expected)));
    assertEquals(groups.map(shape), plainGroups.map(shape), `${label}: packs`);
  }
});

async function collect2(groups: AsyncIterable<DiffRecord[]>): Promise<DiffRecord[][]> {
  const out: DiffRecord[][] = [];
  for await (const group of groups) out.push(group);
  return out;
}
