import { MemoryDevice } from "../../device/block/mod.ts";
import { assertEquals } from "../../testing/assert.ts";
import { seededPrng } from "../../testing/random.ts";
import { WindowedReader } from "./wldev_reader.ts";

const WINDOW_BYTES = 16 * 1024;
const SIZE_BYTES = 40 * WINDOW_BYTES + 4096;

async function filledDevice(): Promise<{ device: MemoryDevice; image: Uint8Array }> {
  const device = new MemoryDevice({ sizeBytes: SIZE_BYTES, alignmentBytes: 4096 });
  const image = new Uint8Array(SIZE_BYTES);
  for (let i = 0; i < image.length; i += 4) {
    new DataView(image.buffer).setUint32(i, i, true);
  }
  await device.write(0, image);
  return { device, image };
}

Deno.test("WindowedReader.read() returns the device bytes for forward, jumping and large reads", async () => {
  const prng = seededPrng("WindowedReader.read");
  const { device, image } = await filledDevice();
  const reader = new WindowedReader(device, { windowBytes: WINDOW_BYTES, windowCount: 3 });
  let offset = 0;
  for (let step = 0; step < 2000; step++) {
    const roll = prng.int(20);
    if (roll === 0) offset = prng.int(SIZE_BYTES / 512) * 512; // a jump (ring wrap, new range)
    const length = roll === 1 ? WINDOW_BYTES + 512 * prng.range(1, 40) : 512 * prng.range(1, 40);
    if (offset + length > SIZE_BYTES) {
      offset = 0;
      continue;
    }
    const bytes = await reader.read(offset, length);
    assertEquals(bytes, image.subarray(offset, offset + length), `read ${offset}+${length}`);
    offset += length;
  }
  await reader.settle();
});

Deno.test("WindowedReader.read() reads up to the device end", async () => {
  const { device, image } = await filledDevice();
  const reader = new WindowedReader(device, { windowBytes: WINDOW_BYTES, windowCount: 2 });
  for (let offset = SIZE_BYTES - 3 * WINDOW_BYTES; offset < SIZE_BYTES; offset += 1536) {
    const length = Math.min(1536, SIZE_BYTES - offset);
    assertEquals(await reader.read(offset, length), image.subarray(offset, offset + length));
  }
  await reader.settle();
});
