import type { DiffRecord } from "../../format/wdiff/diff_record.ts";
import { IndexedWdiffWriter } from "../../format/wdiff/mod.ts";
import { DEFAULT_COMPRESSION } from "../../format/wdiff/stored_data.ts";
import { BufferedWriter, MemorySink } from "../../io/stream.ts";
import { assertEquals, toHex } from "../../testing/assert.ts";
import { seededPrng } from "../../testing/random.ts";
import { PooledIndexedAdder, StorePool } from "./store_pool.ts";

function logpacks(seed: string): DiffRecord[][] {
  const prng = seededPrng(seed);
  const packs: DiffRecord[][] = [];
  for (let p = 0; p < 12; p++) {
    const pack: DiffRecord[] = [];
    for (let i = 0; i < 1 + prng.int(4); i++) {
      const ioAddress = prng.int(4096);
      const ioBlocks = 1 + prng.int(64);
      const kind = prng.pick(["normal", "normal", "allZero", "discard"] as const);
      if (kind !== "normal") {
        pack.push({ ioAddress, ioBlocks, kind, data: null });
        continue;
      }
      const data = prng.chance(0.5)
        ? prng.bytes(ioBlocks * 512)
        : new Uint8Array(ioBlocks * 512).map((_, j) => j % 16);
      pack.push({ ioAddress, ioBlocks, kind, data });
    }
    packs.push(pack);
  }
  return packs;
}

Deno.test("PooledIndexedAdder writes the bytes of the in-thread indexed writer", async () => {
  const uuid = new Uint8Array(16).fill(7);
  const options = { uuid, compression: DEFAULT_COMPRESSION };
  const packs = logpacks("PooledIndexedAdder");
  const expectedSink = new MemorySink();
  const expected = new IndexedWdiffWriter(new BufferedWriter(expectedSink), options);
  for (const pack of packs) for (const record of pack) await expected.add(record);
  await expected.close();
  const pool = new StorePool(1);
  try {
    const sink = new MemorySink();
    const writer = new IndexedWdiffWriter(new BufferedWriter(sink), options);
    const adder = new PooledIndexedAdder(writer, pool, DEFAULT_COMPRESSION, 8 * 1024);
    for (const pack of packs) await adder.add(pack); // transfers the data: last use
    await adder.finish();
    await writer.close();
    assertEquals(toHex(sink.bytes()), toHex(expectedSink.bytes()));
  } finally {
    pool.close();
  }
});
