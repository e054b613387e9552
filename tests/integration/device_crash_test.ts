/**
 * Crash consistency of the userland WalB device: a few SIGKILL trials (device_crash.ts);
 * tests/long/device_crash_long_test.ts runs 50 with WALB_TEST_LONG=1.
 */
import { seededPrng } from "../../lib/testing/random.ts";
import { crashTrial } from "./device_crash.ts";
import { withDeviceDir } from "./device_support.ts";

/** Trials in the normal run. */
const TRIALS = 3;

Deno.test({
  name:
    "AC-45 (emulator analogue) a killed daemon restarts with every flushed write and a prefix of the stream",
  fn: async () => {
    const prng = seededPrng("device crash");
    await withDeviceDir(async (dir) => {
      for (let trial = 0; trial < TRIALS; trial++) await crashTrial(dir, prng, trial);
    });
  },
});
