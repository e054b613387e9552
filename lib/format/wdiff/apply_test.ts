import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import { applyDiff, ApplyRangeError, type ApplyTarget, type SkipReason } from "./apply.ts";
import type { DiffRecord } from "./diff_record.ts";
import { stampedRecord } from "./mem_diff_testing.ts";
import { emptyDiffStatistics } from "./stats.ts";

/** An in-memory target that logs every call. */
function memoryTarget(sizeBytes: number, fill = 0xee) {
  const image = new Uint8Array(sizeBytes).fill(fill);
  const calls: string[] = [];
  const target: ApplyTarget = {
    sizeBytes,
    write: (offset, data) => {
      calls.push(`write ${offset} ${data.length}`);
      image.set(data, offset);
      return Promise.resolve();
    },
    writeZeroes: (offset, length) => {
      calls.push(`zero ${offset} ${length}`);
      image.fill(0, offset, offset + length);
      return Promise.resolve();
    },
    discard: (offset, length) => {
      calls.push(`discard ${offset} ${length}`);
      return Promise.resolve();
    },
    flush: () => {
      calls.push("flush");
      return Promise.resolve();
    },
  };
  return { image, calls, target };
}

const records: DiffRecord[] = [
  stampedRecord(1, 0, 2, "normal"),
  stampedRecord(2, 2, 2, "allZero"),
  stampedRecord(3, 4, 2, "discard"),
];

Deno.test("applyDiff() follows the discard policy", async () => {
  for (
    const [policy, expected] of [
      ["ignore", ["write 0 1024", "zero 1024 1024"]],
      ["zero", ["write 0 1024", "zero 1024 1024", "zero 2048 1024"]],
      ["passdown", ["write 0 1024", "zero 1024 1024", "discard 2048 1024"]],
    ] as const
  ) {
    const { calls, target, image } = memoryTarget(8 * 512);
    const skipped: string[] = [];
    await applyDiff(records, target, {
      discardPolicy: policy,
      onSkipped: (r, reason) => skipped.push(`${r.ioAddress} ${reason}`),
    });
    assertEquals(calls, [...expected]);
    assertEquals(skipped, policy === "ignore" ? ["4 discardIgnored"] : []);
    assertEquals(image[0], 1);
    assertEquals(image[6 * 512], 0xee);
  }
});

Deno.test("applyDiff() rejects or skips records past the target end", async () => {
  const { target } = memoryTarget(5 * 512);
  const error = await assertRejects(() => applyDiff(records, target), ApplyRangeError);
  assert(error.message.includes("out of range"), error.message);
  const second = memoryTarget(5 * 512);
  const skipped: [number, SkipReason][] = [];
  const input = emptyDiffStatistics();
  const output = emptyDiffStatistics();
  await applyDiff(records, second.target, {
    discardPolicy: "zero",
    outOfRange: "skip",
    onSkipped: (r, reason) => skipped.push([r.ioAddress, reason]),
    inputStats: input,
    outputStats: output,
  });
  assertEquals(skipped, [[4, "outOfRange"]]);
  assertEquals([input.discardCount, output.discardCount, output.normalLb], [1, 0, 2]);
});

Deno.test("applyDiff() cuts huge zero ranges and flushes at the interval", async () => {
  const huge: DiffRecord = { ioAddress: 0, ioBlocks: 200_000, kind: "allZero", data: null };
  const calls: string[] = [];
  const target: ApplyTarget = {
    sizeBytes: 200_000 * 512,
    write: () => Promise.reject(new Error("no write expected")),
    writeZeroes: (offset, length) => Promise.resolve(void calls.push(`zero ${offset} ${length}`)),
    flush: () => Promise.resolve(void calls.push("flush")),
  };
  await applyDiff([huge, { ...huge, ioAddress: 0, ioBlocks: 1 }], target, {
    flushIntervalBytes: 50 * 1024 * 1024,
  });
  assertEquals(calls, [
    "zero 0 33554432",
    "zero 33554432 33554432",
    "zero 67108864 33554432",
    "zero 100663296 1736704",
    "flush",
    "zero 0 512",
    "flush",
  ]);
});
