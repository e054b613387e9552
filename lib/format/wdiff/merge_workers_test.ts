import { assertEquals } from "../../testing/assert.ts";
import { CompressionType } from "../../codec/codec.ts";
import type { DiffRecord } from "./diff_record.ts";
import { stampedRecord } from "./mem_diff_testing.ts";
import { groupPacks } from "./merge.ts";
import { compressPackParts } from "./merge_workers.ts";
import { buildCompressedPack } from "./sorted_writer.ts";

async function* stream(records: readonly DiffRecord[]): AsyncGenerator<DiffRecord> {
  yield* records;
}

function joined(parts: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

Deno.test("compressPackParts() gives buildCompressedPack's packs in parts, with 1 or 2 workers", async () => {
  const records: DiffRecord[] = [];
  for (let i = 0; i < 300; i++) {
    const kind = i % 7 === 3 ? "allZero" : i % 11 === 5 ? "discard" : "normal";
    records.push(stampedRecord(i + 1, i * 16, 1 + (i % 16), kind));
  }
  const setting = { type: CompressionType.snappy, level: 0 };
  const expected: { block: Uint8Array; payload: Uint8Array; endLb: number }[] = [];
  for await (const group of groupPacks(stream(records))) {
    const last = group[group.length - 1]!;
    expected.push({
      ...buildCompressedPack(group, setting),
      endLb: last.ioAddress + last.ioBlocks,
    });
  }
  for (const workerCount of [1, 2]) {
    const packs: { block: Uint8Array; payload: Uint8Array; endLb: number }[] = [];
    for await (const pack of compressPackParts(groupPacks(stream(records)), setting, workerCount)) {
      packs.push({ block: pack.block, payload: joined(pack.parts), endLb: pack.endLb });
    }
    assertEquals(packs, expected, `${workerCount} workers`);
  }
});

Deno.test("compressPackParts({ nowMs }) gives the same packs whether or not workers take over", async () => {
  const records: DiffRecord[] = [];
  for (let i = 0; i < 700; i++) records.push(stampedRecord(i + 1, i * 16, 1 + (i % 16), "normal"));
  // 70 packs: the share is judged from the 64th on.
  const groups = Array.from({ length: 70 }, (_, g) => records.slice(g * 10, g * 10 + 10));
  async function* groupStream(): AsyncGenerator<DiffRecord[]> {
    yield* groups;
  }
  const setting = { type: CompressionType.zstd, level: 0 };
  const collectPacks = async (nowMs: () => number) => {
    const packs: { block: Uint8Array; payload: Uint8Array; endLb: number }[] = [];
    for await (const pack of compressPackParts(groupStream(), setting, 2, { nowMs })) {
      packs.push({ block: pack.block, payload: joined(pack.parts), endLb: pack.endLb });
    }
    return packs;
  };
  const expected = groups.map((group) => {
    const last = group[group.length - 1]!;
    return { ...buildCompressedPack(group, setting), endLb: last.ioAddress + last.ioBlocks };
  });
  // A stopped clock: compressing never takes a share of the time, all packs stay here.
  assertEquals(await collectPacks(() => 0), expected, "in this thread");
  // A clock that runs only while a pack is built: the workers take over after 64 packs.
  let calls = 0;
  let now = 0;
  const busyClock = () => (calls++ % 2 === 0 && calls > 1 ? (now += 100) : now);
  assertEquals(await collectPacks(busyClock), expected, "workers take over");
});
