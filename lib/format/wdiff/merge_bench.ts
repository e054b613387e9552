/**
 * Diff algorithm throughput: 65 536 random 4 KiB inserts into the in-memory diff (a 256 MiB
 * wlog of random 4 KiB writes) and a streaming merge of three such diffs.
 * Run: `deno bench --allow-all lib/format/wdiff/merge_bench.ts`.
 *
 * Expected cost: an insert is a binary search plus a splice in a 512-record leaf (~1 µs); the
 * merge touches each input record once and compares N heads per output piece.
 */
import type { DiffRecord } from "./diff_record.ts";
import { MemDiff } from "./mem_diff.ts";
import { seededRandom } from "./mem_diff_testing.ts";
import { mergeDiffs } from "./merge.ts";

const RECORDS = 65536;
const DATA = new Uint8Array(8 * 512);

function randomRecords(seed: number): DiffRecord[] {
  const random = seededRandom(seed);
  return Array.from({ length: RECORDS }, () => ({
    ioAddress: Math.floor(random() * (1 << 21)) * 8,
    ioBlocks: 8,
    kind: "normal" as const,
    data: DATA,
  }));
}

const inputs = [1, 2, 3].map(randomRecords);
const diffs = inputs.map((records) => {
  const diff = new MemDiff();
  for (const record of records) diff.insert(record);
  return [...diff.records()];
});

async function* stream(records: readonly DiffRecord[]): AsyncGenerator<DiffRecord> {
  yield* records;
}

Deno.bench({
  name: "MemDiff.insert 65536 random 4 KiB records",
  n: 10,
  fn: () => {
    const diff = new MemDiff();
    for (const record of inputs[0]!) diff.insert(record);
  },
});

Deno.bench({
  name: "mergeDiffs 3 × 65536 records",
  n: 10,
  fn: async () => {
    let count = 0;
    for await (const _ of mergeDiffs(diffs.map(stream))) count++;
    if (count === 0) throw new Error("nothing merged");
  },
});
