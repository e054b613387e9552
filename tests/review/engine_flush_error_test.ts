/**
 * Review of the background ldev flushes of the userland engine (the log_flush_interval_mb
 * flush that 8c32dd2 moved beside the writes, and the log_flush_interval_ms timer flush): on
 * Linux a failed writeback is reported once, to the first fdatasync that sees it; a later
 * fdatasync of the same file succeeds although the logged data never reached the disk. So a
 * FLUSH (or FUA write) that waits behind a background flush that failed must not be
 * acknowledged: the failure has to reach it (EROFS), not a second, "successful" fdatasync.
 * Both cases were acknowledged before fed62db.
 */
import { ManualClock } from "../../lib/testing/clock.ts";
import { WalbEngine } from "../../lib/device/walb/engine.ts";
import { memoryPair } from "../../lib/device/walb/test_support.ts";
import { assert, assertEquals } from "../../lib/testing/assert.ts";

const MIB = 1024 * 1024;

/** Makes the next ldev flush wait for `fail()` and then reject with EIO, once (errseq). */
function failNextFlushOnce(ldev: { flush(): Promise<void> }) {
  const plain = ldev.flush.bind(ldev);
  let armed = true;
  let started!: () => void;
  const startedPromise = new Promise<void>((resolve) => started = resolve);
  let fail!: () => void;
  const failing = new Promise<void>((resolve) => fail = resolve);
  ldev.flush = async () => {
    if (!armed) return await plain();
    armed = false;
    started();
    await failing;
    throw new Error("EIO: fdatasync reported a writeback error (once)");
  };
  return { started: startedPromise, fail };
}

async function outcome(promise: Promise<void>): Promise<"acknowledged" | "refused"> {
  try {
    await promise;
    return "acknowledged";
  } catch {
    return "refused";
  }
}

Deno.test(
  "review: a FLUSH behind a failed log_flush_interval_mb flush is not acknowledged",
  async () => {
    const { ldev, ddev } = await memoryPair({ ldevBytes: 8 * MIB, ddevBytes: 16 * MIB });
    const clock = new ManualClock();
    const engine = await WalbEngine.open(ldev, ddev, { clock, logFlushIntervalMb: 1 });
    const gate = failNextFlushOnce(ldev);
    const data = new Uint8Array(MIB).fill(5);
    // Not awaited: whether the interval flush holds their acknowledgements or runs beside
    // them (8c32dd2, reverted by ffad33c), the FLUSH queued after them waits for it.
    const writes = [0, 1, 2].map((index) => outcome(engine.write(index * MIB, data)));
    await gate.started; // the interval flush runs, held
    const flushed = outcome(engine.flush());
    await new Promise((resolve) => setTimeout(resolve, 10));
    gate.fail();
    const result = await flushed;
    await Promise.all(writes);
    assertEquals(engine.isReadOnly, true, "the EIO turned the engine read-only");
    assertEquals(result, "refused", "the FLUSH must not be acknowledged after the EIO");
    await engine.abandon();
  },
);

Deno.test({
  name: "review: a FUA write behind a failed timer log flush is not acknowledged",
  // Found by review (engine.ts #flushLog, older than today's commits), fixed by fed62db.
  fn: async () => {
    const { ldev, ddev } = await memoryPair({ ldevBytes: 8 * MIB, ddevBytes: 16 * MIB });
    const clock = new ManualClock();
    const engine = await WalbEngine.open(ldev, ddev, { clock, logFlushIntervalMs: 100 });
    await engine.write(0, new Uint8Array(4096).fill(1)); // logged, not yet durable
    const gate = failNextFlushOnce(ldev);
    clock.advance(100); // the timer flush starts, held
    await gate.started;
    const fua = outcome(engine.write(4096, new Uint8Array(4096).fill(2), { fua: true }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    gate.fail();
    const result = await fua;
    assert(engine.isReadOnly, "the EIO turned the engine read-only");
    assertEquals(result, "refused", "the FUA write must not be acknowledged after the EIO");
    await engine.abandon();
  },
});
