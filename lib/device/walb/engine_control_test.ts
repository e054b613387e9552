import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import { ManualClock } from "../../testing/clock.ts";
import { FaultyDevice } from "../block/faulty_device.ts";
import { MemoryDevice } from "../block/memory_device.ts";
import { PosixFileDevice } from "../block/posix_file_device.ts";
import { WalbEngine } from "./engine.ts";
import { WalbEngineError } from "./errors.ts";
import { formatLdev } from "./format.ts";
import { readSuperSector } from "./ldev.ts";
import { memoryPair } from "./test_support.ts";

const MIB = 1024 * 1024;

async function openPair(options: { checkpointIntervalMs?: number } = {}) {
  const { ldev, ddev } = await memoryPair({ ldevBytes: 4 * MIB, ddevBytes: 8 * MIB });
  const clock = new ManualClock();
  const engine = await WalbEngine.open(ldev, ddev, { clock, ...options });
  return { ldev, ddev, clock, engine };
}

Deno.test("WalbEngine.freeze() drains and queues writes until melt()", async () => {
  const { ddev, engine } = await openPair();
  await engine.write(0, new Uint8Array(512).fill(1));
  await engine.freeze();
  assert(engine.isFrozen, "frozen");
  assertEquals((await ddev.read(0, 1))[0], 1, "freeze waits for the data on the ddev");
  const lsids = engine.lsids();
  assertEquals(lsids.written, lsids.latest);
  let done = false;
  const queued = engine.write(512, new Uint8Array(512).fill(2)).then(() => {
    done = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert(!done, "writes wait while frozen");
  assertEquals(engine.lsids().latest, lsids.latest);
  assertEquals((await engine.read(0, 512))[0], 1, "reads are never frozen");
  engine.melt();
  await queued;
  assert(!engine.isFrozen, "melted");
  engine.melt(); // no effect when melted
  const busy = await engine.freeze().then(() => engine.resetWal()).catch((error) => error);
  assert(busy instanceof WalbEngineError && busy.code === "EBUSY", "reset-wal while frozen");
  engine.melt();
  await engine.stop();
});

Deno.test("WalbEngine.freeze(timeout) melts by itself on the clock", async () => {
  const { clock, engine } = await openPair();
  await engine.freeze(2);
  assertEquals(engine.freezeState, "frozen-timeout");
  await clock.advance(1999);
  assert(engine.isFrozen, "still frozen");
  await clock.advance(1);
  assert(!engine.isFrozen, "melted after the timeout");
  await engine.freeze(5);
  await engine.freeze(0); // re-freezing cancels the timer
  await clock.advance(10_000);
  assertEquals(engine.freezeState, "frozen");
  engine.melt();
  await engine.stop();
});

Deno.test("WalbEngine checkpoints periodically and on demand", async () => {
  const { ldev, clock, engine } = await openPair({ checkpointIntervalMs: 1000 });
  assertEquals(engine.getCheckpointInterval(), 1000);
  await engine.write(0, new Uint8Array(1024), { fua: true });
  await engine.freeze();
  engine.melt();
  assertEquals(engine.lsids().prevWritten, 0n);
  await clock.advance(1000);
  assertEquals(engine.lsids().prevWritten, 3n);
  assertEquals((await readSuperSector(ldev)).writtenLsid, 3n);
  engine.setCheckpointInterval(0);
  await engine.write(0, new Uint8Array(512), { fua: true });
  await engine.freeze();
  engine.melt();
  await clock.advance(5000);
  assertEquals(engine.lsids().prevWritten, 3n, "0 disables periodic checkpoints");
  await engine.checkpoint();
  assertEquals(engine.lsids().prevWritten, 5n);
  const error = await assertRejects(
    () => Promise.resolve().then(() => engine.setCheckpointInterval(86_400_001)),
    WalbEngineError,
  );
  assertEquals(error.code, "EINVAL");
  await engine.stop();
});

Deno.test("WalbEngine.waitForPermanent() wakes on new durable log or times out", async () => {
  const { clock, engine } = await openPair();
  const timedOut = engine.waitForPermanent(0n, 100);
  await clock.advance(100);
  assertEquals(await timedOut, false);
  const woken = engine.waitForPermanent(0n, 10_000);
  await engine.write(0, new Uint8Array(512));
  await engine.flush();
  assertEquals(await woken, true);
  await engine.stop();
});

Deno.test("WalbEngine.resize() grows up to the ddev size only", async () => {
  const { ldev, ddev } = await memoryPair({ ldevBytes: MIB, ddevBytes: 8 * MIB });
  // Format for a 4 MiB device over the 8 MiB ddev.
  await formatLdev(ldev, { sizeBytes: 4 * MIB, physicalBlockSize: 512 });
  const engine = await WalbEngine.open(ldev, ddev, { clock: new ManualClock() });
  assertEquals(engine.deviceSizeLb, 8192n);
  for (const size of [4096n, 16385n * 2n]) {
    const error = await assertRejects(() => engine.resize(size), WalbEngineError);
    assertEquals(error.code, "EFAULT");
  }
  await engine.resize(12288n);
  assertEquals((await readSuperSector(ldev)).deviceSize, 12288n);
  await engine.resize(0n);
  assertEquals(engine.deviceSizeLb, 16384n);
  await engine.write(8 * MIB - 512, new Uint8Array(512));
  await engine.stop();
});

Deno.test("WalbEngine.resize() re-reads the size of a ddev grown after open", async () => {
  const path = await Deno.makeTempFile({ dir: "/var/tmp", prefix: "walb-engine-resize-" });
  await Deno.truncate(path, 2 * MIB);
  const ldev = new MemoryDevice({ sizeBytes: MIB });
  const ddev = await PosixFileDevice.open(path);
  try {
    await formatLdev(ldev, ddev);
    const engine = await WalbEngine.open(ldev, ddev, { clock: new ManualClock() });
    assertEquals(engine.deviceSizeLb, 4096n);
    await Deno.truncate(path, 3 * MIB);
    await engine.resize(0n);
    assertEquals(engine.deviceSizeLb, 6144n);
    assertEquals((await readSuperSector(ldev)).deviceSize, 6144n);
    await engine.write(3 * MIB - 512, new Uint8Array(512).fill(9));
    await engine.stop();
    assertEquals((await ddev.read(3 * MIB - 512, 512))[0], 9);
  } finally {
    await ddev.close();
    await Deno.remove(path);
  }
});

Deno.test("WalbEngine turns read-only after an ldev write error", async () => {
  const { ldev: inner, ddev } = await memoryPair({ ldevBytes: MIB, ddevBytes: MIB });
  const ldev = new FaultyDevice(inner, { seed: 1 });
  const events: string[] = [];
  const engine = await WalbEngine.open(ldev, ddev, {
    clock: new ManualClock(),
    onEvent: (event) => events.push(event.kind),
  });
  ldev.setFaults({ writeErrorRate: 1 });
  const error = await assertRejects(() => engine.write(0, new Uint8Array(512)), WalbEngineError);
  assertEquals(error.code, "EROFS");
  assert(engine.isReadOnly, "read-only");
  assertEquals(events.includes("read-only"), true);
  const again = await assertRejects(() => engine.write(0, new Uint8Array(512)), WalbEngineError);
  assertEquals(again.code, "EROFS");
  await assertRejects(() => engine.stop(), WalbEngineError);
});
