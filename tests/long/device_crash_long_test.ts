/**
 * The long crash run of the userland WalB device: 50 SIGKILL trials (WALB_TEST_LONG=1,
 * `deno task test:long`), each on fresh files.
 */
import { seededPrng } from "../../lib/testing/random.ts";
import { crashTrial } from "../integration/device_crash.ts";
import { withDeviceDir } from "../integration/device_support.ts";

const TRIALS = 50;

Deno.test({
  name:
    "AC-45 (emulator analogue) 50 killed daemons restart with every flushed write and a prefix of the stream",
  ignore: Deno.env.get("WALB_TEST_LONG") !== "1",
  fn: async () => {
    const prng = seededPrng("device crash long");
    await withDeviceDir(async (dir) => {
      for (let trial = 0; trial < TRIALS; trial++) await crashTrial(dir, prng, trial);
    });
  },
});
