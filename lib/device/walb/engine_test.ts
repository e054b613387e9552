import { ChecksumMismatchError, CorruptDataError } from "../../errors.ts";
import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import { ManualClock } from "../../testing/clock.ts";
import { MemoryDevice } from "../block/memory_device.ts";
import { parseLsids } from "../kernel/sysfs.ts";
import { WalbEngine } from "./engine.ts";
import { WalbEngineError } from "./errors.ts";
import { readSuperSector } from "./ldev.ts";
import { memoryPair, readLoggedIos } from "./test_support.ts";

const MIB = 1024 * 1024;

async function openPair(options: { pbs?: number } = {}) {
  const { ldev, ddev } = await memoryPair({ ldevBytes: 4 * MIB, ddevBytes: 16 * MIB, ...options });
  const clock = new ManualClock();
  const engine = await WalbEngine.open(ldev, ddev, { clock });
  return { ldev, ddev, clock, engine };
}

Deno.test("WalbEngine.write() logs a pack, flush() makes it permanent, stop() applies it", async () => {
  const { ldev, ddev, engine } = await openPair();
  const data = new Uint8Array(4096).fill(0x5a);
  await engine.write(8192, data);
  let lsids = engine.lsids();
  assertEquals(lsids.latest, 9n);
  assertEquals(lsids.completed, 9n);
  assertEquals(lsids.permanent, 0n);
  await engine.flush();
  lsids = engine.lsids();
  assertEquals(lsids.permanent, 9n);
  assertEquals(lsids.flush, 9n);
  await engine.stop();
  const sup = await readSuperSector(ldev);
  assertEquals(sup.writtenLsid, 9n);
  assertEquals(sup.name, "test");
  assertEquals(await ddev.read(8192, 4096), data);
  const log = await readLoggedIos(ldev, { limitLsid: 9n });
  assertEquals(log.packCount, 1);
  assertEquals(log.ios[0]!.data, data);
});

Deno.test("WalbEngine.read() sees writes whose data is still pending", async () => {
  const { ddev, engine } = await openPair();
  await engine.write(0, new Uint8Array(1024).fill(1));
  await engine.write(512, new Uint8Array(512).fill(2));
  await engine.discard(1024 * 8, 4096);
  assert(engine.pendingBytes > 0, "data is pending (no flush yet)");
  assertEquals((await ddev.read(0, 1))[0], 0);
  const bytes = await engine.read(0, 2048);
  assertEquals(bytes[0], 1);
  assertEquals(bytes[511], 1);
  assertEquals(bytes[512], 2);
  assertEquals(bytes[1024], 0);
  await engine.stop();
  assertEquals(engine.pendingBytes, 0);
});

Deno.test("WalbEngine.tryReadIntoSync() overlays pending data and refuses what it cannot do", async () => {
  const { engine } = await openPair();
  await engine.write(0, new Uint8Array(1024).fill(1));
  await engine.write(512, new Uint8Array(512).fill(2));
  const target = new Uint8Array(2048).fill(9);
  assert(engine.tryReadIntoSync(0, target), "memory ddev data is at hand");
  assertEquals([target[0], target[511], target[512], target[1024]], [1, 1, 2, 0]);
  assertEquals(engine.tryReadIntoSync(100, new Uint8Array(512)), false, "misaligned");
  assertEquals(engine.tryReadIntoSync(engine.sizeBytes, new Uint8Array(512)), false, "past end");
  await engine.stop();
  assertEquals(engine.tryReadIntoSync(0, new Uint8Array(512)), false, "stopped");
});

Deno.test("WalbEngine FUA write is permanent when acknowledged", async () => {
  const { engine } = await openPair();
  await engine.write(0, new Uint8Array(512), { fua: true });
  assertEquals(engine.lsids().permanent, 2n);
  await engine.stop();
});

Deno.test("WalbEngine.lsidsText() parses back with the sysfs parser", async () => {
  const { engine } = await openPair();
  await engine.write(0, new Uint8Array(512));
  const parsed = parseLsids(engine.lsidsText());
  assertEquals(parsed.latest, 2n);
  assertEquals(parsed.oldest, 0n);
  await engine.stop();
});

Deno.test("WalbEngine rejects misaligned and out-of-range IO", async () => {
  const { engine } = await openPair();
  for (const [offset, length] of [[1, 512], [0, 100], [16 * MIB, 512], [-512, 512]] as const) {
    const error = await assertRejects(
      () => engine.write(offset, new Uint8Array(length)),
      WalbEngineError,
    );
    assertEquals(error.code, "EINVAL");
  }
  await assertRejects(() => engine.read(16 * MIB - 512, 1024), WalbEngineError);
  await engine.stop();
  const error = await assertRejects(() => engine.write(0, new Uint8Array(512)), WalbEngineError);
  assertEquals(error.code, "ESHUTDOWN");
});

Deno.test("WalbEngine.open() rejects a non-WalB ldev, a corrupt super and a small ddev", async () => {
  const clock = new ManualClock();
  const blank = new MemoryDevice({ sizeBytes: MIB });
  await assertRejects(
    () => WalbEngine.open(blank, blank, { clock }),
    CorruptDataError,
    "sector_type",
  );
  const { ldev, ddev } = await memoryPair({ ldevBytes: MIB, ddevBytes: 16 * MIB });
  const small = new MemoryDevice({ sizeBytes: 8 * MIB });
  const error = await assertRejects(() => WalbEngine.open(ldev, small, { clock }), WalbEngineError);
  assertEquals(error.code, "EINVAL");
  const big4k = new MemoryDevice({ sizeBytes: 16 * MIB, physicalBlockSize: 4096 });
  await assertRejects(() => WalbEngine.open(ldev, big4k, { clock }), WalbEngineError, "pbs");
  await assertRejects(
    () => WalbEngine.open(ldev, ddev, { clock, maxPendingMb: 1 }),
    WalbEngineError,
    "max_pending_mb",
  );
  await assertRejects(
    () => WalbEngine.open(ldev, ddev, { clock, name: "n".repeat(26) }),
    WalbEngineError,
    "longer than 25",
  );
  const block = await ldev.read(4096, 512);
  block[100] = block[100]! ^ 1;
  await ldev.write(4096, block);
  await assertRejects(() => WalbEngine.open(ldev, ddev, { clock }), ChecksumMismatchError);
});

Deno.test("WalbEngine.open() takes the name rule: given, else super, else fallback", async () => {
  const clock = new ManualClock();
  const { ldev, ddev } = await memoryPair({ ldevBytes: MIB, ddevBytes: MIB });
  let engine = await WalbEngine.open(ldev, ddev, { clock, name: "other" });
  assertEquals(engine.name, "other");
  await engine.stop();
  assertEquals((await readSuperSector(ldev)).name, "other");
  engine = await WalbEngine.open(ldev, ddev, { clock });
  assertEquals(engine.name, "other");
  await engine.stop();
});

Deno.test("WalbEngine FUA write behind a failed background log flush is refused, not acknowledged", async () => {
  const { ldev, ddev } = await memoryPair({ ldevBytes: 8 * MIB, ddevBytes: 16 * MIB });
  const clock = new ManualClock();
  const engine = await WalbEngine.open(ldev, ddev, { clock, logFlushIntervalMs: 100 });
  await engine.write(0, new Uint8Array(4096).fill(1));
  // The next ldev flush fails once (Linux reports a writeback error to one fdatasync only).
  const plain = ldev.flush.bind(ldev);
  let armed = true;
  let fail!: () => void;
  const failing = new Promise<void>((resolve) => fail = resolve);
  let started!: () => void;
  const startedFlush = new Promise<void>((resolve) => started = resolve);
  ldev.flush = async () => {
    if (!armed) return await plain();
    armed = false;
    started();
    await failing;
    throw new Error("EIO");
  };
  clock.advance(100); // the timer flush starts and is held
  await startedFlush;
  const completed = engine.lsids().completed;
  const fua = engine.write(4096, new Uint8Array(4096).fill(2), { fua: true });
  // Let the FUA write be logged and queue its flush behind the held one.
  for (let tries = 0; tries < 200 && engine.lsids().completed === completed; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  assert(engine.lsids().completed > completed, "the FUA write was logged");
  await new Promise((resolve) => setTimeout(resolve, 1));
  fail();
  await assertRejects(() => fua, WalbEngineError);
  assert(engine.isReadOnly, "read-only after the failed flush");
  assertEquals(engine.lsids().permanent, 0n);
  await engine.abandon();
});
