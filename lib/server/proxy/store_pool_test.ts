import type { DiffRecord } from "../../format/wdiff/diff_record.ts";
import { IndexedWdiffWriter } from "../../format/wdiff/mod.ts";
import { DEFAULT_COMPRESSION, storeData } from "../../format/wdiff/stored_data.ts";
import { checksum } from "../../format/checksum/checksum.ts";
import type { LogpackIo } from "../../format/wlog/mod.ts";
import { snappyCodec } from "../../codec/snappy.ts";
import { BufferedWriter, MemorySink } from "../../io/stream.ts";
import { assertEquals, toHex } from "../../testing/assert.ts";
import { seededPrng } from "../../testing/random.ts";
import { PooledIndexedAdder, storedFromWire, StorePool } from "./store_pool.ts";

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
    const adder = new PooledIndexedAdder(writer, () => pool, DEFAULT_COMPRESSION, 8 * 1024);
    for (const pack of packs) await adder.add(pack); // transfers the data: last use
    await adder.finish();
    await writer.close();
    assertEquals(toHex(sink.bytes()), toHex(expectedSink.bytes()));
  } finally {
    pool.close();
  }
});

/** A received IO as receiveWlogStream gives it, and its wire form as the storage sends it. */
function wireIo(data: Uint8Array, salt: number, pbs = 512) {
  const padded = new Uint8Array(Math.ceil(data.length / pbs) * pbs);
  padded.set(data);
  const compressed = snappyCodec.compress(padded, 0);
  const io = {
    record: { checksum: checksum(data, salt) },
    data: padded,
    payload: padded.subarray(0, data.length),
  } as unknown as LogpackIo;
  return { io, compressed: compressed.length < padded.length ? compressed : undefined };
}

Deno.test("storedFromWire() gives storeData()'s stored form, or undefined with pb padding", () => {
  const prng = seededPrng("storedFromWire");
  const salt = prng.u32();
  const random = prng.bytes(8192);
  const pattern = new Uint8Array(8192).map((_, i) => i % 16);
  for (const data of [random, pattern]) {
    const { io, compressed } = wireIo(data, salt);
    const stored = storedFromWire(io, compressed, salt)!;
    const expected = storeData(data, DEFAULT_COMPRESSION);
    assertEquals(stored.compressionType, expected.compressionType);
    assertEquals(stored.checksum, expected.checksum);
    assertEquals(toHex(stored.stored), toHex(expected.stored));
  }
  const { io, compressed } = wireIo(pattern.subarray(0, 1024), salt, 4096);
  assertEquals(storedFromWire(io, compressed, salt), undefined);
});

Deno.test("PooledIndexedAdder mixes ready stored forms and pooled ones in log order", async () => {
  const uuid = new Uint8Array(16).fill(9);
  const options = { uuid, compression: DEFAULT_COMPRESSION };
  const packs = logpacks("PooledIndexedAdder ready");
  const expectedSink = new MemorySink();
  const expected = new IndexedWdiffWriter(new BufferedWriter(expectedSink), options);
  for (const pack of packs) for (const record of pack) await expected.add(record);
  await expected.close();
  const pool = new StorePool(1);
  try {
    const sink = new MemorySink();
    const writer = new IndexedWdiffWriter(new BufferedWriter(sink), options);
    const adder = new PooledIndexedAdder(writer, () => pool, DEFAULT_COMPRESSION, 8 * 1024);
    for (const [p, pack] of packs.entries()) {
      // Every other pack comes with its stored forms ready.
      const ready = pack.map((record) =>
        p % 2 === 0 && record.kind === "normal"
          ? storeData(record.data!, DEFAULT_COMPRESSION)
          : undefined
      );
      await adder.add(pack, ready);
    }
    await adder.finish();
    await writer.close();
    assertEquals(toHex(sink.bytes()), toHex(expectedSink.bytes()));
  } finally {
    pool.close();
  }
});
