/**
 * Seeded property tests: random diff records written sorted (variants A and B) and indexed
 * read back as the same blocks; indexed "newest wins" agrees with a per-block model.
 * SEED=n replays a run.
 */
import { assertEquals } from "../../testing/assert.ts";
import { CompressionType } from "../../codec/codec.ts";
import { MemoryRandomAccess } from "../../io/random_access.ts";
import { Prng, randomSeed } from "../../testing/random.ts";
import { BufferedReader, BufferedWriter, MemorySink, MemorySource } from "../../io/stream.ts";
import type { DiffKind, DiffRecord } from "./diff_record.ts";
import { IndexedWdiffReader } from "./indexed_reader.ts";
import { IndexedWdiffWriter } from "./indexed_writer.ts";
import { openWdiff, readWdiffStream } from "./open.ts";
import { SortedWdiffWriter } from "./sorted_writer.ts";
import type { CompressionSetting } from "./stored_data.ts";

const seed = randomSeed();
const prng = new Prng(seed);
const random = () => prng.next();
const pick = (n: number) => Math.floor(random() * n);

function randomRecord(ioAddress: number, ioBlocks: number): DiffRecord {
  const kinds: DiffKind[] = ["normal", "normal", "allZero", "discard"];
  const kind = kinds[pick(4)]!;
  if (kind !== "normal") return { ioAddress, ioBlocks, kind, data: null };
  const data = new Uint8Array(ioBlocks * 512);
  if (random() < 0.5) { for (let i = 0; i < data.length; i++) data[i] = pick(256); }
  else for (let i = 0; i < data.length; i += 64) data[i] = pick(4);
  return { ioAddress, ioBlocks, kind, data };
}

/** Sorted, non-overlapping random records. */
function randomSortedRecords(count: number): DiffRecord[] {
  const records: DiffRecord[] = [];
  let address = pick(16);
  for (let i = 0; i < count; i++) {
    const blocks = 1 + pick(40);
    records.push(randomRecord(address, blocks));
    address += blocks + (random() < 0.5 ? 0 : pick(20));
  }
  return records;
}

type Block = string;

/** Per-block model: "Z", "D", or the block's bytes as a latin1 string. */
function applyToModel(model: Map<number, Block>, record: DiffRecord): void {
  for (let i = 0; i < record.ioBlocks; i++) {
    const value = record.kind === "allZero"
      ? "Z"
      : record.kind === "discard"
      ? "D"
      : String.fromCharCode(...record.data!.subarray(i * 512, (i + 1) * 512));
    model.set(record.ioAddress + i, value);
  }
}

async function readModel(bytes: Uint8Array): Promise<Map<number, Block>> {
  const model = new Map<number, Block>();
  const { reader, close } = await openWdiff(new MemoryRandomAccess(bytes));
  for await (const record of reader.records()) applyToModel(model, record);
  close();
  return model;
}

const settings: CompressionSetting[] = [
  { type: CompressionType.snappy, level: 0 },
  { type: CompressionType.none, level: 0 },
  { type: CompressionType.gzip, level: 1 },
];

Deno.test(`SortedWdiffWriter variants A and B round-trip random records (seed=${seed})`, async () => {
  for (const variant of ["A", "B"] as const) {
    for (const compression of settings) {
      const records = randomSortedRecords(1 + pick(300));
      const sink = new MemorySink();
      const uuid = Uint8Array.from({ length: 16 }, () => pick(256));
      const writer = new SortedWdiffWriter(new BufferedWriter(sink), {
        uuid,
        compression,
        variant,
      });
      for (const record of records) await writer.add(record);
      await writer.close();
      const reader = await readWdiffStream(new BufferedReader(new MemorySource(sink.bytes())));
      assertEquals(reader.header.uuid, uuid);
      const back: DiffRecord[] = [];
      for await (const record of reader.records()) back.push(record);
      assertEquals(back, records, `seed=${seed} variant ${variant}`);
    }
  }
});

Deno.test(`IndexedWdiffWriter keeps the newest data per block (seed=${seed})`, async () => {
  for (const maxIoBlocks of [0, 8, 2048]) {
    const model = new Map<number, Block>();
    const sink = new MemorySink();
    const writer = new IndexedWdiffWriter(new BufferedWriter(sink), {
      maxIoBlocks,
      compression: settings[pick(settings.length)]!,
    });
    const count = 1 + pick(200);
    for (let i = 0; i < count; i++) {
      const record = randomRecord(pick(1024), 1 + pick(64));
      await writer.add(record);
      applyToModel(model, record);
    }
    await writer.close();
    const bytes = sink.bytes();
    assertEquals(await readModel(bytes), model, `seed=${seed} maxIoBlocks ${maxIoBlocks}`);
    const reader = await IndexedWdiffReader.open(new MemoryRandomAccess(bytes));
    assertEquals(reader.superBlock.nData, count);
    assertEquals(reader.superBlock.indexOffset % 8, 0);
    for await (const { record } of reader.indexRecords()) {
      const size = record.ioBlocks;
      assertEquals(size & (size - 1), 0, "pieces are powers of two");
      assertEquals(record.ioAddress % size, 0, "pieces are aligned");
      if (maxIoBlocks > 0) assertEquals(size <= maxIoBlocks, true);
    }
  }
});

Deno.test("IndexedWdiffWriter reproduces the §20 indexed example", async () => {
  const sink = new MemorySink();
  const writer = new IndexedWdiffWriter(new BufferedWriter(sink), {
    compression: { type: CompressionType.none, level: 0 },
  });
  await writer.add({
    ioAddress: 5,
    ioBlocks: 3,
    kind: "normal",
    data: new Uint8Array(1536).fill(0x42),
  });
  await writer.close();
  const bytes = sink.bytes();
  assertEquals(bytes.length, 1688);
  const tail = Array.from(bytes.subarray(1568 + 44, 1568 + 48));
  assertEquals(tail, [0xd7, 0x5c, 0x63, 0x63]);
  assertEquals(Array.from(bytes.subarray(1688 - 4)), [0xdd, 0xf9, 0xff, 0xff]);
});

Deno.test("SortedWdiffWriter reproduces the §20 sorted example (8252 bytes)", async () => {
  const sink = new MemorySink();
  const uuid = Uint8Array.from({ length: 16 }, (_, i) => i);
  const writer = new SortedWdiffWriter(new BufferedWriter(sink), { uuid });
  await writer.add({
    ioAddress: 8,
    ioBlocks: 1,
    kind: "normal",
    data: new Uint8Array(512).fill(65),
  });
  await writer.add({ ioAddress: 16, ioBlocks: 8, kind: "allZero", data: null });
  await writer.add({ ioAddress: 24, ioBlocks: 16, kind: "discard", data: null });
  await writer.close();
  const bytes = sink.bytes();
  assertEquals(bytes.length, 8252);
  assertEquals(Array.from(bytes.subarray(32, 36)), [0xbc, 0xfd, 0xff, 0x40]);
});

Deno.test("variant A packs by stored size, variant B by uncompressed size", async () => {
  const records: DiffRecord[] = [];
  for (let i = 0; i < 40; i++) {
    const data = new Uint8Array(2048 * 512);
    data[0] = i;
    records.push({ ioAddress: i * 2048, ioBlocks: 2048, kind: "normal", data });
  }
  const packCounts: number[] = [];
  for (const variant of ["A", "B"] as const) {
    const sink = new MemorySink();
    const writer = new SortedWdiffWriter(new BufferedWriter(sink), { variant });
    for (const record of records) await writer.add(record);
    await writer.close();
    const reader = await readWdiffStream(new BufferedReader(new MemorySource(sink.bytes())));
    const sizes: number[] = [];
    for await (const pack of reader.packs()) sizes.push(pack.header.nRecords);
    packCounts.push(sizes.length);
    assertEquals(sizes.reduce((a, b) => a + b, 0), 40);
  }
  assertEquals(packCounts, [1, 2]);
});
