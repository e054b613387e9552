import { MemoryDevice } from "../../device/block/mod.ts";
import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import { seededPrng } from "../../testing/random.ts";
import { CoalescingWriter } from "./coalescing_writer.ts";

const KiB = 1024;

Deno.test("CoalescingWriter: contiguous bulks become few large writes with the same bytes", async () => {
  const prng = seededPrng("CoalescingWriter");
  const size = 10 * 1024 * KiB;
  const device = new MemoryDevice({ sizeBytes: size, alignmentBytes: 512 });
  await device.write(0, new Uint8Array(size).fill(0xee)); // older data under zero bulks
  const writes: number[] = [];
  const write = device.write.bind(device);
  device.write = (offset, data) => {
    writes.push(data.length);
    return write(offset, data);
  };
  const expected = new Uint8Array(size).fill(0xee);
  const writer = new CoalescingWriter(device, 1024 * KiB, 3);
  let offset = 0;
  while (offset < size - 1024 * KiB) {
    const length = Math.min((1 + prng.int(512)) * 512, size - offset);
    const data = prng.chance(0.2) ? undefined : prng.bytes(length);
    await writer.append(offset, length, data);
    expected.fill(0, offset, offset + length);
    if (data !== undefined) expected.set(data, offset);
    offset += length;
  }
  // A jump: the buffer so far is written and a new one starts at the new offset.
  offset += 4096;
  const tail = prng.bytes(size - offset);
  await writer.append(offset, tail.length, tail);
  expected.set(tail, offset);
  await writer.drain();
  assertEquals(await device.read(0, size), expected);
  assert(writes.length <= 12, `${writes.length} writes`);
  assert(writes.every((length) => length <= 1024 * KiB), "writes of at most one buffer");
});

Deno.test("CoalescingWriter: a failed write is reported by drain()", async () => {
  const device = new MemoryDevice({ sizeBytes: 8 * 1024 * KiB });
  device.write = () => Promise.reject(new Error("EIO injected"));
  const writer = new CoalescingWriter(device, 1024 * KiB, 8);
  await writer.append(0, 2048 * KiB, new Uint8Array(2048 * KiB));
  await assertRejects(() => writer.drain(), Error, "EIO injected");
  await writer.settle();
});
