import { ChecksumMismatchError, CorruptDataError } from "../errors.ts";
import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import {
  buildSuperSector,
  encodeLogpackHeader,
  formatLdevSuper,
  LogpackBuilder,
  lsidToByteOffset,
  type SuperSector,
} from "../format/wlog/mod.ts";
import { LdevLogReader, readLdevSuper } from "./ldev_reader.ts";

/** An in-memory ldev image of `ringPb` ring pb with a fresh super. */
function memoryLdev(pbs: number, ringPb: number, salt = 0x1234) {
  const rbo = 4096 / pbs + 2;
  const image = new Uint8Array((rbo + ringPb) * pbs);
  const init = formatLdevSuper({
    ldevLb: BigInt(image.length / 512),
    ddevLb: 4096n,
    pbs,
    salt,
    uuid: new Uint8Array(16).fill(9),
  });
  image.set(buildSuperSector(init), 4096);
  const readAt = (offset: number, length: number) =>
    Promise.resolve(image.slice(offset, offset + length));
  const writeAt = (offset: number, data: Uint8Array) => {
    assert(offset + data.length <= image.length, "write inside the image");
    image.set(data, offset);
    return Promise.resolve();
  };
  return { image, readAt, writeAt };
}

function pattern(seed: number, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (seed * 31 + i * 7) & 0xff);
}

Deno.test("readLdevSuper() takes the pbs from the super and verifies its checksum", async () => {
  for (const pbs of [512, 4096]) {
    const { image, readAt } = memoryLdev(pbs, 64);
    const { sup, block } = await readLdevSuper(readAt, { sizeBytes: image.length });
    assertEquals([sup.pbs, sup.ringBufferSize, block.length], [pbs, 64n, pbs]);
    image[4096 + 30]! ^= 1;
    await assertRejects(
      () => readLdevSuper(readAt, { sizeBytes: image.length }),
      ChecksumMismatchError,
    );
  }
});

Deno.test("readLdevSuper() rejects a small device, a foreign pbs and a ring past the end", async () => {
  const { image, readAt } = memoryLdev(512, 64);
  await assertRejects(() => readLdevSuper(readAt, { sizeBytes: 8000 }), CorruptDataError, "only");
  await assertRejects(
    () => readLdevSuper(readAt, { sizeBytes: image.length, devicePbs: 4096 }),
    CorruptDataError,
    "the device has 4096",
  );
  await assertRejects(
    () => readLdevSuper(readAt, { sizeBytes: image.length - 512 }),
    CorruptDataError,
    "past the device end",
  );
  const zero = () => Promise.resolve(new Uint8Array(4096));
  await assertRejects(() => readLdevSuper(zero, { sizeBytes: image.length }), CorruptDataError);
});

async function writePack(
  image: { writeAt: (o: number, d: Uint8Array) => Promise<void> },
  sup: SuperSector,
  pack: { block: Uint8Array; ios: { data: Uint8Array }[] },
  lsid: bigint,
) {
  let current = lsid;
  for (const bytes of [pack.block, ...pack.ios.map((io) => io.data)]) {
    for (let i = 0; i < bytes.length; i += sup.pbs) {
      await image.writeAt(Number(lsidToByteOffset(current, sup)), bytes.subarray(i, i + sup.pbs));
      current++;
    }
  }
}

Deno.test("LdevLogReader.packs() follows a pack across the ring end", async () => {
  const ldev = memoryLdev(512, 16, 0x89abcdef);
  const { sup } = await readLdevSuper(ldev.readAt, { sizeBytes: ldev.image.length });
  // Header in the last ring pb (lsid 31 -> pb 15), data at the ring start.
  const builder = new LogpackBuilder({ pbs: 512, salt: sup.salt, lsid: 31n });
  builder.addNormal(8, pattern(1, 1024));
  builder.addDiscard(100, 8);
  const pack = builder.seal();
  await writePack(ldev, sup, pack, 31n);
  const reader = new LdevLogReader(ldev.readAt, sup);
  const packs = [];
  for await (const p of reader.packs(31n)) packs.push(p);
  assertEquals(packs.length, 1);
  assertEquals(packs[0]!.ios[0]!.payload, pattern(1, 1024));
  assertEquals([packs[0]!.shrunk, reader.endLsid, reader.stop?.reason], [false, 34n, "invalid"]);
  assertEquals(
    await reader.readBlocks(31n, 3),
    new Uint8Array([...pack.block, ...pattern(1, 1024)]),
  );
});

Deno.test("LdevLogReader.packs() shrinks a pack at the first bad payload, unless told not to", async () => {
  const ldev = memoryLdev(512, 64);
  const { sup } = await readLdevSuper(ldev.readAt, { sizeBytes: ldev.image.length });
  const builder = new LogpackBuilder({ pbs: 512, salt: sup.salt, lsid: 0n });
  builder.addNormal(0, pattern(1, 512));
  builder.addNormal(4, pattern(2, 512));
  builder.addNormal(8, pattern(3, 512));
  const pack = builder.seal();
  await writePack(ldev, sup, pack, 0n);
  ldev.image[Number(lsidToByteOffset(2n, sup)) + 5]! ^= 0xff; // record 1's payload
  const reader = new LdevLogReader(ldev.readAt, sup);
  const packs = [];
  for await (const p of reader.packs(0n)) packs.push(p);
  assertEquals(packs.length, 1);
  const shrunk = packs[0]!;
  assertEquals([shrunk.shrunk, shrunk.badRecordIndex, shrunk.header.nRecords], [true, 1, 1]);
  assertEquals([shrunk.nextLsid, reader.endLsid, reader.stop?.reason], [2n, 2n, "shrunk"]);
  assertEquals(shrunk.block, encodeLogpackHeader(shrunk.header, { pbs: 512, salt: sup.salt }));
  const unchecked = [];
  for await (const p of reader.packs(0n, { shrink: false })) unchecked.push(p);
  assertEquals([unchecked.length, unchecked[0]!.header.nRecords], [1, 3]);
  const headers = [];
  for await (const p of reader.packs(0n, { readData: false, endLsid: 1n })) headers.push(p);
  assertEquals([headers.length, headers[0]!.ios.length, reader.stop?.reason], [1, 0, "limit"]);
});
