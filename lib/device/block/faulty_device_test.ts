import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import { BlockIoError } from "./block_device.ts";
import { blockDeviceConformance, pattern } from "./conformance_test_suite.ts";
import { FaultyDevice } from "./faulty_device.ts";
import { MemoryDevice } from "./memory_device.ts";

const SEED = Number(Deno.env.get("SEED") ?? Date.now() % 1_000_000);

function memory(sizeBytes = 1024 * 1024, alignmentBytes = 1): MemoryDevice {
  return new MemoryDevice({ sizeBytes, alignmentBytes });
}

blockDeviceConformance(
  "FaultyDevice without faults",
  () => Promise.resolve({ device: new FaultyDevice(memory(8 * 1024 * 1024), { seed: SEED }) }),
  { discardZeroes: true },
);

blockDeviceConformance(
  "FaultyDevice without faults over a 4096-aligned device",
  () =>
    Promise.resolve({
      device: new FaultyDevice(memory(8 * 1024 * 1024, 4096), { seed: SEED }),
    }),
  { discardZeroes: true },
);

Deno.test("FaultyDevice crash() drops unflushed writes and keeps flushed ones", async () => {
  const inner = memory();
  const device = new FaultyDevice(inner, { seed: SEED });
  await device.write(100, pattern(100, 1000, 1));
  await device.flush();
  await device.write(600, pattern(600, 2000, 2));
  await device.writeZeroes(0, 50);
  assertEquals(device.unflushedBytes, 6 * 512);
  assertEquals((await inner.read(600, 1))[0], pattern(600, 1, 1)[0]);
  assertEquals(await device.read(600, 2000), pattern(600, 2000, 2));
  await device.crash();
  assertEquals(device.unflushedBytes, 0);
  assertEquals(await device.read(100, 1000), pattern(100, 1000, 1));
  assertEquals(await device.read(1100, 1500), new Uint8Array(1500));
  assertEquals(device.stats.crashes, 1);
});

Deno.test("FaultyDevice crash({ persistRate }) keeps whole sectors of unflushed data", async () => {
  const device = new FaultyDevice(memory(), { seed: SEED });
  const length = 512 * 200;
  await device.write(0, pattern(0, length));
  await device.crash({ persistRate: 0.5 });
  const bytes = await device.read(0, length);
  let kept = 0;
  for (let sector = 0; sector < 200; sector++) {
    const got = bytes.subarray(sector * 512, (sector + 1) * 512);
    const isKept = got.some((b) => b !== 0);
    if (isKept) kept++;
    const expected = isKept ? pattern(sector * 512, 512) : new Uint8Array(512);
    assertEquals(got, expected, `seed=${SEED} sector ${sector}`);
  }
  assert(kept > 50 && kept < 150, `seed=${SEED} kept ${kept} of 200`);
});

Deno.test("FaultyDevice injects errors at chosen ranges, changing nothing", async () => {
  const device = new FaultyDevice(memory(), {
    seed: SEED,
    faults: {
      readErrorRanges: [{ offsetBytes: 4096, lengthBytes: 512 }],
      writeErrorRanges: [{ offsetBytes: 8192, lengthBytes: 1 }],
    },
  });
  const readError = await assertRejects(() => device.read(4000, 200), BlockIoError, "injected");
  assertEquals(readError.code, "EIO");
  assertEquals((await device.read(4608, 100)).length, 100);
  await assertRejects(() => device.write(8000, new Uint8Array(300).fill(1)), BlockIoError);
  assertEquals(await device.read(8000, 300), new Uint8Array(300));
  await device.write(8193, new Uint8Array(1).fill(1));
  assertEquals(device.stats.readErrors, 1);
  assertEquals(device.stats.writeErrors, 1);
  device.setFaults({});
  await device.read(4096, 512);
});

Deno.test("FaultyDevice fails writes with ENOSPC past the space budget", async () => {
  const device = new FaultyDevice(memory(), { seed: SEED, faults: { noSpaceAfterBytes: 10000 } });
  await device.write(0, new Uint8Array(6000));
  const error = await assertRejects(() => device.write(6000, new Uint8Array(5000)), BlockIoError);
  assertEquals(error.code, "ENOSPC");
  await device.write(6000, new Uint8Array(4000));
  await assertRejects(() => device.writeZeroes(0, 1), BlockIoError, "no space");
  assertEquals(device.stats.noSpaceErrors, 2);
});

Deno.test("FaultyDevice torn writes apply a sector prefix and fail", async () => {
  const device = new FaultyDevice(memory(), { seed: SEED, faults: { tornWriteRate: 1 } });
  const length = 512 * 16;
  const error = await assertRejects(() => device.write(0, pattern(0, length)), BlockIoError);
  assertEquals(error.code, "EIO");
  const match = /(\d+) of 16 sectors applied/.exec(error.message);
  assert(match !== null, error.message);
  const kept = Number(match[1]) * 512;
  const bytes = await device.read(0, length);
  assertEquals(bytes.subarray(0, kept), pattern(0, kept), `seed=${SEED}`);
  assertEquals(bytes.subarray(kept), new Uint8Array(length - kept), `seed=${SEED}`);
  assertEquals(device.stats.tornWrites, 1);
});

Deno.test("FaultyDevice with a failed flush keeps writes volatile until a flush succeeds", async () => {
  const inner = memory();
  const device = new FaultyDevice(inner, { seed: SEED, faults: { flushErrorRate: 1 } });
  await device.write(0, pattern(0, 4096));
  await assertRejects(() => device.flush(), BlockIoError, "injected flush error");
  assertEquals(await inner.read(0, 4096), new Uint8Array(4096));
  device.setFaults({});
  await device.flush();
  assertEquals(await inner.read(0, 4096), pattern(0, 4096));
  await device.crash();
  assertEquals(await device.read(0, 4096), pattern(0, 4096));
});

Deno.test("FaultyDevice rates replay the same faults for the same seed", async () => {
  async function run(seed: number): Promise<string> {
    const device = new FaultyDevice(memory(), {
      seed,
      faults: { readErrorRate: 0.3, writeErrorRate: 0.3 },
    });
    let outcomes = "";
    for (let i = 0; i < 64; i++) {
      const ok = await device.write(i * 512, new Uint8Array(512)).then(() => true, () => false);
      const readOk = await device.read(i * 512, 512).then(() => true, () => false);
      outcomes += `${ok ? "w" : "W"}${readOk ? "r" : "R"}`;
    }
    return outcomes;
  }
  const first = await run(SEED);
  assertEquals(await run(SEED), first, `seed=${SEED}`);
  assert(first.includes("W") && first.includes("w"), `seed=${SEED} ${first}`);
});

Deno.test("FaultyDevice keeps concurrent writes to parts of one sector", async () => {
  const device = new FaultyDevice(memory(), { seed: SEED });
  await Promise.all(
    Array.from({ length: 16 }, (_, i) => device.write(i * 32, pattern(i * 32, 32))),
  );
  assertEquals(await device.read(0, 512), pattern(0, 512));
});
