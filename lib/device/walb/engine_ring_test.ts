/**
 * Ring wrap and overflow on a small ldev: extraction keeping up lets the log wrap many times
 * (padding at the ring end, every pack valid); without extraction the overflow flag is set
 * but redo log (≥ prev_written) is never overwritten; errorBeforeOverflow fails writes
 * instead of overwriting unextracted log; resetWal recovers; setOldestLsid refuses bad lsids.
 */
import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import { ManualClock } from "../../testing/clock.ts";
import { LdevRing, readSuperSector } from "./ldev.ts";
import { readLogRange } from "./log_reader.ts";
import { WalbEngine } from "./engine.ts";
import { WalbEngineError } from "./errors.ts";
import {
  applyLoggedIos,
  firstDifference,
  memoryPair,
  Random,
  readLoggedIos,
  snapshotDevice,
  stampedData,
  testSeed,
} from "./test_support.ts";

const SEED = testSeed();
// A test, not library code: print the seed so SEED=n replays a failure.
// deno-lint-ignore no-console
console.log(`walb engine ring seed=${SEED}`);

const RING_PB = 200;
const DDEV_BYTES = 256 * 1024;

/** Lets every logged write reach the ddev (freeze waits for written == latest). */
async function drain(engine: WalbEngine): Promise<void> {
  await engine.freeze();
  engine.melt();
}

async function smallRing(options: { errorBeforeOverflow?: boolean } = {}) {
  const { ldev, ddev } = await memoryPair({
    ldevBytes: (10 + RING_PB) * 512,
    ddevBytes: DDEV_BYTES,
  });
  const engine = await WalbEngine.open(ldev, ddev, {
    clock: new ManualClock(),
    maxLogpackKb: 8,
    ...options,
  });
  assertEquals(engine.logCapacity, BigInt(RING_PB));
  return { ldev, ddev, engine };
}

Deno.test("WalbEngine wraps the ring many times while logs are extracted", async () => {
  const random = new Random(SEED);
  const { ldev, ddev, engine } = await smallRing();
  const model = new Uint8Array(DDEV_BYTES);
  const extracted = new Uint8Array(DDEV_BYTES);
  let done = 0n;
  let paddings = 0;
  for (let i = 0; i < 400; i++) {
    const lengthBytes = (1 + random.below(40)) * 512;
    const offsetBytes = random.below((DDEV_BYTES - lengthBytes) / 512) * 512;
    const data = stampedData(i + 1, offsetBytes, lengthBytes);
    model.set(data, offsetBytes);
    await engine.write(offsetBytes, data);
    if (engine.logUsage > BigInt(RING_PB / 2) || random.below(3) === 0) {
      // Extract as the storage server does: up to permanent, then erase up to prev_written.
      await engine.flush();
      const sup = await readSuperSector(ldev);
      const ring = new LdevRing(ldev, sup);
      const permanent = engine.lsids().permanent;
      const packs = readLogRange(ring, sup.salt, done, permanent);
      for (;;) {
        const step = await packs.next();
        if (step.done === true) {
          assertEquals(step.value.reason, "limit", `seed=${SEED}: extraction reads valid packs`);
          break;
        }
        if (step.value.header.nPadding > 0) paddings++;
      }
      const log = await readLoggedIos(ldev, { fromLsid: done, limitLsid: permanent });
      applyLoggedIos(extracted, log.ios);
      done = permanent;
      await drain(engine);
      await engine.checkpoint();
      const eraseTo = done < engine.lsids().prevWritten ? done : engine.lsids().prevWritten;
      await engine.setOldestLsid(eraseTo);
    }
  }
  assert(!engine.isOverflow, "extraction kept up");
  assert(engine.lsids().latest > BigInt(5 * RING_PB), "the ring wrapped several times");
  assert(paddings > 0, "some pack carries padding at the ring end");
  await engine.flush();
  const log = await readLoggedIos(ldev, { fromLsid: done, limitLsid: engine.lsids().latest });
  applyLoggedIos(extracted, log.ios);
  assertEquals(firstDifference(extracted, model), -1, "extracted logs rebuild the image");
  await engine.stop();
  assertEquals(firstDifference(await snapshotDevice(ddev), model), -1);
});

Deno.test("WalbEngine sets overflow past capacity but keeps the redo log", async () => {
  const { ldev, ddev, engine } = await smallRing();
  const model = new Uint8Array(DDEV_BYTES);
  for (let i = 0; i < 100; i++) {
    const offsetBytes = (i * 8 * 512) % DDEV_BYTES;
    const data = stampedData(i + 1, offsetBytes, 8 * 512);
    model.set(data, offsetBytes);
    await engine.write(offsetBytes, data);
  }
  assert(engine.isOverflow, "overflow flag set");
  assert(engine.logUsage > engine.logCapacity, "usage above capacity");
  const lsids = engine.lsids();
  assert(lsids.latest - lsids.prevWritten <= engine.logCapacity, "redo log kept");
  // A crash-free reopen without stop: redo from the super's written lsid must work.
  await engine.abandon();
  const reopened = await WalbEngine.open(ldev, ddev, { clock: new ManualClock() });
  assert(reopened.isOverflow, "overflow detected at assembly");
  // Nothing was flushed by a client, but periodic-free engines still flushed for room:
  // what redo rebuilt from the kept log is the image.
  assertEquals(reopened.lsids().written, reopened.lsids().latest);
  const error = await assertRejects(() => reopened.setOldestLsid(1n), WalbEngineError);
  assertEquals(error.code, "EFAULT");
  // reset-wal recovers.
  const before = { uuid: reopened.uuid, salt: reopened.salt };
  await reopened.resetWal();
  assert(!reopened.isOverflow, "reset-wal clears overflow");
  assertEquals(reopened.lsids(), {
    latest: 0n,
    completed: 0n,
    flush: 0n,
    permanent: 0n,
    written: 0n,
    prevWritten: 0n,
    oldest: 0n,
  });
  assert(before.salt !== reopened.salt || before.uuid.join() !== reopened.uuid.join(), "new log");
  const sup = await readSuperSector(ldev);
  assertEquals(sup.salt, reopened.salt);
  assertEquals(sup.writtenLsid, 0n);
  assertEquals((await ldev.read(10 * 512, 512)).every((byte) => byte === 0), true);
  await reopened.write(0, new Uint8Array(512).fill(9));
  await reopened.stop();
  assertEquals((await ddev.read(0, 1))[0], 9);
  const log = await readLoggedIos(ldev, { limitLsid: 2n });
  assertEquals(log.packCount, 1);
});

Deno.test("WalbEngine with errorBeforeOverflow fails writes and never overwrites unextracted log", async () => {
  const { ldev, engine } = await smallRing({ errorBeforeOverflow: true });
  let refused: WalbEngineError | undefined;
  for (let i = 0; i < 100 && refused === undefined; i++) {
    try {
      await engine.write(i * 4096, new Uint8Array(4096).fill(i));
    } catch (error) {
      if (!(error instanceof WalbEngineError)) throw error;
      refused = error;
    }
  }
  assert(refused !== undefined, "a write was refused");
  assertEquals(refused.code, "ENOSPC");
  assert(!engine.isOverflow, "no overflow");
  await engine.flush();
  const latest = engine.lsids().latest;
  const log = await readLoggedIos(ldev, { fromLsid: 0n, limitLsid: latest });
  assertEquals(log.reason, "limit", "the log from oldest 0 is intact");
  // Erasing the log makes room again.
  await engine.clearWal();
  assertEquals(engine.lsids().oldest, latest);
  await engine.write(0, new Uint8Array(4096));
  await engine.stop();
});

Deno.test("WalbEngine.setOldestLsid() refuses lsids out of range or off pack boundaries", async () => {
  const { ldev, engine } = await smallRing();
  await engine.write(0, new Uint8Array(1024)); // pack [0, 3)
  await engine.write(4096, new Uint8Array(512)); // pack [3, 5)
  await drain(engine);
  await engine.checkpoint();
  assertEquals(engine.lsids().prevWritten, 5n);
  const superBefore = await ldev.read(4096, 512);
  const lsidsBefore = engine.lsids();
  for (const lsid of [6n, 1n, 2n, 4n]) {
    const error = await assertRejects(() => engine.setOldestLsid(lsid), WalbEngineError);
    assertEquals(error.code, "EFAULT");
  }
  assertEquals(engine.lsids(), lsidsBefore);
  assertEquals(await ldev.read(4096, 512), superBefore);
  await engine.setOldestLsid(3n);
  assertEquals((await readSuperSector(ldev)).oldestLsid, 3n);
  const back = await assertRejects(() => engine.setOldestLsid(0n), WalbEngineError);
  assertEquals(back.code, "EFAULT");
  await engine.setOldestLsid(5n);
  assertEquals(engine.logUsage, 0n);
  await engine.stop();
});
