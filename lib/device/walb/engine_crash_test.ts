/**
 * Crash consistency: a write stream with periodic flushes, checkpoints and log flushes (on a
 * manual clock) runs over FaultyDevice-wrapped ldev and ddev; at a random point both devices
 * crash (unflushed writes lost, or partly persisted with `persistRate`). A new engine opened
 * on the durable state (redo) must hold every write acknowledged before a completed flush,
 * its image must equal the redo of the log prefix on the ldev, and the lsids must satisfy
 * their invariants. A few trials normally, 60 with WALB_TEST_LONG=1. Prints the seed.
 */
import { assert, assertEquals } from "../../testing/assert.ts";
import { ManualClock } from "../../testing/clock.ts";
import { FaultyDevice } from "../block/faulty_device.ts";
import { MemoryDevice } from "../block/memory_device.ts";
import { WalbEngine } from "./engine.ts";
import { formatLdev } from "./format.ts";
import { checkLsidInvariants } from "./lsid_state.ts";
import {
  applyLoggedIos,
  CuttableDevice,
  firstDifference,
  longRun,
  Random,
  readLoggedIos,
  snapshotDevice,
  stampedData,
  testSeed,
} from "./test_support.ts";

const SEED = testSeed();
// A test, not library code: print the seed so SEED=n replays a failure.
// deno-lint-ignore no-console
console.log(`walb engine crash seed=${SEED}`);

const MIB = 1024 * 1024;
const DDEV_BYTES = 4 * MIB;

interface Write {
  id: number;
  offsetBytes: number;
  lengthBytes: number;
  acked: boolean;
}

/** Totals over the trials, to check the crashes exercise redo. */
const totals = { redonePacks: 0, truncated: 0 };

async function trial(random: Random, trialIndex: number): Promise<void> {
  const context = `seed=${SEED} trial=${trialIndex}`;
  const ldevInner = new MemoryDevice({ sizeBytes: 32 * MIB });
  const ddevInner = new MemoryDevice({ sizeBytes: DDEV_BYTES });
  await formatLdev(ldevInner, ddevInner, { name: "crash" });
  const ldevFaulty = new FaultyDevice(ldevInner, { seed: random.below(2 ** 31) });
  const ddevFaulty = new FaultyDevice(ddevInner, { seed: random.below(2 ** 31) });
  const ldev = new CuttableDevice(ldevFaulty);
  const ddev = new CuttableDevice(ddevFaulty);
  const clock = new ManualClock();
  const engine = await WalbEngine.open(ldev, ddev, {
    clock,
    checkpointIntervalMs: 50,
    logFlushIntervalMs: 20,
    maxLogpackKb: [0, 16, 32][random.below(3)]!,
  });
  const writes: Write[] = [];
  const mustSurvive = new Set<number>();
  const running: Promise<unknown>[] = [];
  const steps = 20 + random.below(200);
  let id = 1;
  for (let step = 0; step < steps; step++) {
    const action = random.below(100);
    if (action < 70) {
      const lengthBytes = (1 + random.below(24)) * 512;
      const offsetBytes = random.below((DDEV_BYTES - lengthBytes) / 512) * 512;
      const write: Write = { id: id++, offsetBytes, lengthBytes, acked: false };
      writes.push(write);
      const data = stampedData(write.id, offsetBytes, lengthBytes);
      running.push(
        engine.write(offsetBytes, data).then(() => {
          write.acked = true;
        }, () => {}),
      );
    } else if (action < 85) {
      const covered = writes.filter((write) => write.acked).map((write) => write.id);
      running.push(
        engine.flush().then(() => {
          for (const writeId of covered) mustSurvive.add(writeId);
        }, () => {}),
      );
    } else if (action < 95) {
      await clock.advance(random.below(60));
    } else {
      running.push(engine.checkpoint().catch(() => {}));
    }
    if (random.below(3) === 0) await Promise.resolve();
    if (random.below(8) === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  // Crash: the engine loses its devices at once; then both caches lose unflushed writes.
  const permanentAtCrash = engine.lsids().permanent;
  ldev.cut();
  ddev.cut();
  await Promise.all([ldev.drain(), ddev.drain()]);
  const persistRate = random.below(2) === 0 ? 0 : random.next();
  await ldevFaulty.crash({ persistRate });
  await ddevFaulty.crash({ persistRate });
  await engine.abandon();
  await Promise.all(running);

  const reopened = await WalbEngine.open(ldevFaulty, ddevFaulty, {
    clock: new ManualClock(),
    onEvent: (event) => {
      if (event.kind !== "redo") return;
      totals.redonePacks += event.result.packCount;
      if (event.result.truncation !== "none") totals.truncated++;
    },
  });
  const lsids = reopened.lsids();
  checkLsidInvariants(lsids);
  assertEquals(lsids.written, lsids.latest, `${context}: redo sets written = latest`);
  assert(lsids.latest >= permanentAtCrash, `${context}: durable log survives the crash`);
  const log = await readLoggedIos(ldevFaulty, { fromLsid: 0n, limitLsid: lsids.latest });
  assertEquals(log.reason, "limit", `${context}: every pack of the redone log validates`);
  const expected = applyLoggedIos(new Uint8Array(DDEV_BYTES), log.ios);
  const image = await reopened.read(0, DDEV_BYTES);
  assertEquals(firstDifference(image, expected), -1, `${context}: image is the log's redo`);
  const logged = new Set(
    log.ios.map((io) => new DataView(io.data!.buffer, io.data!.byteOffset).getUint32(0, true)),
  );
  for (const writeId of mustSurvive) {
    assert(logged.has(writeId), `${context}: write ${writeId} was flushed but is lost`);
  }
  await reopened.stop();
  assertEquals(
    firstDifference(await snapshotDevice(ddevFaulty), expected),
    -1,
    `${context}: ddev after a clean stop`,
  );
}

Deno.test("WalbEngine survives crashes: flushed writes kept, image = redo of a log prefix", async () => {
  const random = new Random(SEED);
  const trials = longRun() ? 60 : 6;
  for (let i = 0; i < trials; i++) await trial(random, i);
  assert(totals.redonePacks > 0, "some crash left log to redo");
});
