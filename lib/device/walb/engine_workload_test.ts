/**
 * A seeded mixed workload (concurrent writes, overlapping writes, big writes split into
 * several records and packs, discards, flushes, FUA) through the engine; then the log is
 * read back from the ldev with the wlog library and redone onto a copy of the initial ddev:
 * it must equal the engine's image and a plain model. Prints the seed; SEED=n replays.
 */
import { assert, assertEquals } from "../../testing/assert.ts";
import { ManualClock } from "../../testing/clock.ts";
import { WalbEngine } from "./engine.ts";
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
console.log(`walb engine workload seed=${SEED}`);

const MIB = 1024 * 1024;

interface WorkloadConfig {
  pbs: number;
  maxLogpackKb: number;
  ddevBytes: number;
  waves: number;
}

async function runWorkload(random: Random, config: WorkloadConfig) {
  const { ldev, ddev } = await memoryPair({
    // Room for the largest seeded workloads (big writes of up to 35 MB), so the ring never
    // overflows: overflow is tested on its own in engine_ring_test.
    ldevBytes: 512 * MIB,
    ddevBytes: config.ddevBytes,
    pbs: config.pbs,
  });
  // Start from a non-zero image so discards and partial writes show.
  const initial = new Uint8Array(config.ddevBytes);
  random.fill(initial.subarray(0, 256 * 1024));
  await ddev.write(0, initial);
  const model = initial.slice();
  const engine = await WalbEngine.open(ldev, ddev, {
    clock: new ManualClock(),
    maxLogpackKb: config.maxLogpackKb,
  });
  let id = 1;
  const deviceLb = config.ddevBytes / 512;
  for (let wave = 0; wave < config.waves; wave++) {
    const ops: Promise<void>[] = [];
    const count = 1 + random.below(40);
    for (let i = 0; i < count; i++) {
      const kind = random.below(100);
      // Mostly small IOs in a hot 256 KiB area (overlaps), sometimes large ones anywhere.
      const big = random.below(150) === 0;
      const sizeLb = big ? 1 + random.below(70000) : 1 + random.below(64);
      const area = big ? deviceLb : 512;
      const offsetLb = random.below(Math.max(1, area - sizeLb));
      const offsetBytes = offsetLb * 512;
      const lengthBytes = sizeLb * 512;
      if (kind < 10) {
        ops.push(engine.discard(offsetBytes, lengthBytes));
        model.fill(0, offsetBytes, offsetBytes + lengthBytes);
      } else if (kind < 15) {
        ops.push(engine.flush());
      } else {
        const data = stampedData(id++, offsetBytes, lengthBytes);
        ops.push(engine.write(offsetBytes, data, { fua: kind < 18 }));
        model.set(data, offsetBytes);
      }
    }
    await Promise.all(ops);
    if (random.below(4) === 0) {
      const probe = random.below(deviceLb - 64) * 512;
      const bytes = await engine.read(probe, 32 * 1024);
      assertEquals(
        firstDifference(bytes, model.subarray(probe, probe + bytes.length)),
        -1,
        `read-after-write at ${probe}`,
      );
    }
  }
  await engine.flush();
  const lsids = engine.lsids();
  assertEquals(lsids.permanent, lsids.latest, "a flush makes all log permanent");
  assert(!engine.isOverflow, "the whole log fits in the ring");
  const image = await engine.read(0, config.ddevBytes);
  assertEquals(firstDifference(image, model), -1, "engine image equals the model");

  const log = await readLoggedIos(ldev, { fromLsid: 0n, limitLsid: lsids.permanent });
  assertEquals(log.reason, "limit", "every pack up to permanent validates");
  assertEquals(log.endLsid, lsids.permanent);
  const redone = applyLoggedIos(initial.slice(), log.ios);
  assertEquals(firstDifference(redone, model), -1, "redo of the log equals the model");

  await engine.stop();
  const ddevImage = await snapshotDevice(ddev);
  assertEquals(firstDifference(ddevImage, model), -1, "ddev after stop equals the model");
  return log.packCount;
}

Deno.test("WalbEngine mixed workload: the log redone equals the image (pbs 512)", async () => {
  const random = new Random(SEED);
  const packs = await runWorkload(random, {
    pbs: 512,
    maxLogpackKb: [0, 32, 256][random.below(3)]!,
    ddevBytes: 48 * MIB,
    waves: Number(Deno.env.get("WAVES") ?? 60),
  });
  assert(packs > 10, `only ${packs} packs`);
});

Deno.test("WalbEngine mixed workload: the log redone equals the image (pbs 4096)", async () => {
  const random = new Random(SEED ^ 0x4096);
  await runWorkload(random, {
    pbs: 4096,
    maxLogpackKb: [0, 32, 256][random.below(3)]!,
    ddevBytes: 48 * MIB,
    waves: 40,
  });
});
