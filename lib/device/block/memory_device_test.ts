import { assertEquals, assertRejects, assertThrows } from "../../testing/assert.ts";
import { BlockIoError, BlockRangeError } from "./block_device.ts";
import { blockDeviceConformance } from "./conformance_test_suite.ts";
import { MemoryDevice } from "./memory_device.ts";

blockDeviceConformance(
  "MemoryDevice",
  () => Promise.resolve({ device: new MemoryDevice({ sizeBytes: 8 * 1024 * 1024 }) }),
  { discardZeroes: true },
);

blockDeviceConformance(
  "MemoryDevice with 4096-byte alignment",
  () =>
    Promise.resolve({
      device: new MemoryDevice({
        sizeBytes: 8 * 1024 * 1024,
        alignmentBytes: 4096,
        physicalBlockSize: 4096,
      }),
    }),
  { discardZeroes: true },
);

Deno.test("MemoryDevice allocates only written chunks and frees zeroed ones", async () => {
  const device = new MemoryDevice({ sizeBytes: 1024 * 1024 * 1024 });
  assertEquals(device.allocatedBytes, 0);
  await device.write(512 * 1024 * 1024, new Uint8Array(10).fill(1));
  assertEquals(device.allocatedBytes, 64 * 1024);
  await device.discard(512 * 1024 * 1024, 64 * 1024);
  assertEquals(device.allocatedBytes, 0);
});

Deno.test("MemoryDevice rejects writes when read-only and bad sizes", async () => {
  const device = new MemoryDevice({ sizeBytes: 4096, readOnly: true });
  const error = await assertRejects(() => device.write(0, new Uint8Array(1)), BlockIoError);
  assertEquals(error.code, "EROFS");
  await assertRejects(() => device.read(0, 4097), BlockRangeError, "past the device size 4096");
  assertThrows(() => new MemoryDevice({ sizeBytes: -1 }), RangeError);
});
