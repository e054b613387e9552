import { CorruptDataError, UsageError } from "../errors.ts";
import { BufferedReader, BufferedWriter, MemorySink, MemorySource } from "../io/stream.ts";
import { assertEquals, assertRejects } from "../testing/assert.ts";
import {
  buildSuperSector,
  formatLdevSuper,
  isPaddingRecord,
  LogpackBuilder,
  WlogReader,
  WlogWriter,
} from "../format/wlog/mod.ts";
import { LdevLogReader, readLdevSuper } from "./ldev_reader.ts";
import { type RestoreEvent, restoreWlog } from "./ldev_writer.ts";

const SALT = 0x5a5a1234;

function memoryLdev(pbs: number, ringPb: number) {
  const image = new Uint8Array((4096 / pbs + 2 + ringPb) * pbs);
  const init = formatLdevSuper({
    ldevLb: BigInt(image.length / 512),
    ddevLb: 1024n,
    pbs,
    salt: 1,
    uuid: new Uint8Array(16),
  });
  image.set(buildSuperSector(init), 4096);
  return {
    image,
    readAt: (offset: number, length: number) =>
      Promise.resolve(image.slice(offset, offset + length)),
    writeAt: (offset: number, data: Uint8Array) => {
      if (offset + data.length > image.length) throw new RangeError("write past the image");
      image.set(data, offset);
      return Promise.resolve();
    },
  };
}

/** A wlog of `count` packs from lsid 10, each with two normal records and a discard. */
async function makeWlog(pbs: number, count: number, options: { offsetLb?: number } = {}) {
  const sink = new MemorySink();
  const writer = new WlogWriter(new BufferedWriter(sink));
  await writer.writeHeader({
    salt: SALT,
    pbs,
    uuid: new Uint8Array(16).fill(3),
    beginLsid: 10n,
    endLsid: 2n ** 64n - 1n,
  });
  for (let i = 0; i < count; i++) {
    const builder = new LogpackBuilder({ pbs, salt: SALT, lsid: writer.endLsid });
    builder.addNormal(options.offsetLb ?? i * 8, new Uint8Array(1024).fill(i + 1));
    builder.addDiscard(500, 16);
    builder.addNormal(i * 8 + 4, new Uint8Array(512).fill(i + 100));
    await writer.writePack(builder.seal());
  }
  await writer.close();
  return sink.bytes();
}

async function restore(
  ldev: ReturnType<typeof memoryLdev>,
  wlogBytes: Uint8Array,
  options: Parameters<typeof restoreWlog>[2] = {},
) {
  const { sup } = await readLdevSuper(ldev.readAt, { sizeBytes: ldev.image.length });
  const wlog = new WlogReader(new BufferedReader(new MemorySource(wlogBytes)), {
    verifyPayload: false,
  });
  await wlog.readHeader();
  return await restoreWlog(wlog, { ...ldev, sup }, options);
}

async function readBack(ldev: ReturnType<typeof memoryLdev>) {
  const { sup } = await readLdevSuper(ldev.readAt, { sizeBytes: ldev.image.length });
  const reader = new LdevLogReader(ldev.readAt, sup);
  const packs = [];
  for await (const pack of reader.packs(sup.oldestLsid)) packs.push(pack);
  return { sup, packs, reader };
}

Deno.test("restoreWlog() writes the packs at their lsids and updates the super", async () => {
  const ldev = memoryLdev(512, 200);
  const result = await restore(ldev, await makeWlog(512, 5));
  assertEquals([result.restoredBeginLsid, result.restoredEndLsid, result.lsidDiffEnd], [
    10n,
    30n,
    0n,
  ]);
  const { sup, packs, reader } = await readBack(ldev);
  assertEquals([sup.oldestLsid, sup.writtenLsid, sup.salt], [10n, 10n, SALT]);
  assertEquals(sup.uuid, new Uint8Array(16).fill(3));
  assertEquals([packs.length, reader.endLsid, reader.stop?.reason], [5, 30n, "invalid"]);
  assertEquals(packs[4]!.ios[0]!.payload, new Uint8Array(1024).fill(5));
});

Deno.test("restoreWlog() pads to the ring end before a pack that would cross it", async () => {
  const ldev = memoryLdev(512, 25);
  const events: RestoreEvent[] = [];
  const result = await restore(ldev, await makeWlog(512, 5), {
    lsidDiff: 5n,
    onPack: (event) => events.push(event),
  });
  // Packs of 4 pb from lsid 15: 15, 19, 23 (pad 2 pb to 25), 25, 29 -> end 33 + 2.
  assertEquals([result.lsidDiffStart, result.lsidDiffEnd, result.restoredEndLsid], [5n, 7n, 37n]);
  const { packs } = await readBack(ldev);
  assertEquals(packs.map((p) => p.header.logpackLsid), [15n, 19n, 23n, 25n, 29n, 33n]);
  assertEquals(isPaddingRecord(packs[2]!.header.records[0]!), true);
  assertEquals(packs[5]!.ios[2]!.payload, new Uint8Array(512).fill(104));
  assertEquals(events.filter((e) => e.kind === "restore" && e.padding).length, 1);
});

Deno.test("restoreWlog() with -s turns records past the size into padding, splitting packs", async () => {
  const ldev = memoryLdev(512, 200);
  // Records at 0..2 and 4..5 of pack 0, 8.. and 12.. of pack 1, ...: size 10 clips from pack 1.
  const result = await restore(ldev, await makeWlog(512, 3), { deviceSizeLb: 10n });
  const { packs } = await readBack(ldev);
  for (const pack of packs) {
    for (const { record } of pack.ios) {
      if (!isPaddingRecord(record)) assertEquals(record.offset + record.ioSize <= 10, true);
    }
  }
  assertEquals(packs.reduce((sum, p) => sum + p.header.nPadding, 0) >= 3, true);
  assertEquals(result.restoredEndLsid, packs.at(-1)!.nextLsid);
});

Deno.test("restoreWlog() refuses a log longer than the ring and a shift out of range", async () => {
  await assertRejects(
    async () => restore(memoryLdev(512, 12), await makeWlog(512, 5)),
    UsageError,
    "overflow",
  );
  await assertRejects(
    async () => restore(memoryLdev(512, 100), await makeWlog(512, 1), { lsidDiff: -11n }),
    UsageError,
    "out of range",
  );
  await assertRejects(
    async () => restore(memoryLdev(4096, 100), await makeWlog(512, 1)),
    UsageError,
    "Physical block size differs. super 4096 head 512",
  );
});

Deno.test("restoreWlog() fails on a corrupt payload with the pack lsid", async () => {
  const bytes = await makeWlog(512, 2);
  bytes[4096 + 512 + 10]! ^= 1;
  await assertRejects(
    () => restore(memoryLdev(512, 100), bytes),
    CorruptDataError,
    "restore:wlog file corrupt:10",
  );
});

Deno.test("restoreWlog() skips packs below -b and invalidates -i", async () => {
  const ldev = memoryLdev(512, 100);
  const events: RestoreEvent[] = [];
  await restore(ldev, await makeWlog(512, 3), {
    beginLsid: 14n,
    invalidateLsid: 18n,
    verify: true,
    onPack: (event) => events.push(event),
  });
  assertEquals(events.map((e) => e.kind), ["skip", "restore", "restore"]);
  const { sup } = await readBack(ldev);
  const reader = new LdevLogReader(ldev.readAt, sup);
  const packs = [];
  for await (const pack of reader.packs(14n)) packs.push(pack);
  assertEquals(packs.length, 1); // the pack at 18 was invalidated
});
