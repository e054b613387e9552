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

Deno.test("CoalescingWriter.reserve(): a view in place is taken without a copy", async () => {
  const device = new MemoryDevice({ sizeBytes: 4 * 1024 * KiB, alignmentBytes: 512 });
  const writer = new CoalescingWriter(device, 1024 * KiB, 2);
  const expected = new Uint8Array(4 * 1024 * KiB);
  let offset = 0;
  let inPlace = 0;
  for (const length of [256, 256, 384, 256, 1024, 128].map((k) => k * KiB)) {
    const view = writer.reserve(offset, length);
    const data = view ?? new Uint8Array(length);
    data.fill(length / KiB + offset / (64 * KiB));
    expected.set(data, offset);
    const copied = await writer.append(offset, length, data);
    assertEquals(copied, view === undefined, `range at ${offset}`);
    if (!copied) inPlace++;
    offset += length;
  }
  await writer.drain();
  // 256+256+384 fit the first buffer; 256 does not (it is copied across); the second buffer
  // then takes 1024 only by copy (it does not fit after the part of 256), 128 fits.
  assert(inPlace >= 3, `${inPlace} ranges in place`);
  assertEquals(await device.read(0, offset), expected.subarray(0, offset));
});
