/**
 * The shared conformance suite every {@link BlockDevice} passes. A `*_test.ts` file calls
 * {@link blockDeviceConformance} with a factory that opens a fresh, zero-filled, writable
 * device of at least 8 MiB; each case is a separate `Deno.test`.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import { type BlockDevice, BlockIoError, BlockRangeError } from "./block_device.ts";

/** A device opened for one test case, with what undoes its setup. */
export interface OpenedDevice {
  device: BlockDevice;
  /** Runs after `device.close()`, e.g. to remove a file or detach a loop device. */
  cleanup?: () => Promise<void>;
}

/** Options of {@link blockDeviceConformance}. */
export interface ConformanceOptions {
  /** After discard the range reads as zeroes (memory, files with hole punch). */
  discardZeroes?: boolean;
  /** Skip all cases, with this reason as the test names' suffix (e.g. "not root"). */
  skipReason?: string;
}

/** Least device size the suite needs: data across several 1 MiB bounce chunks. */
export const CONFORMANCE_DEVICE_SIZE_MIN = 8 * 1024 * 1024;

/** Deterministic bytes whose every 4-byte word names its device offset (finds misplacement). */
export function pattern(offsetBytes: number, lengthBytes: number, salt = 0): Uint8Array {
  const bytes = new Uint8Array(lengthBytes);
  for (let i = 0; i < lengthBytes; i++) {
    const position = offsetBytes + i;
    bytes[i] = ((Math.floor(position / 4) * 2654435761 + salt) >>> ((position % 4) * 8)) & 0xff;
  }
  return bytes;
}

function isZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

/** Registers the conformance cases for one implementation. */
export function blockDeviceConformance(
  name: string,
  open: () => Promise<OpenedDevice>,
  options: ConformanceOptions = {},
): void {
  const test = (title: string, body: (device: BlockDevice) => Promise<void>) => {
    Deno.test({
      name: `${name}: ${title}${options.skipReason ? ` (skipped: ${options.skipReason})` : ""}`,
      ignore: options.skipReason !== undefined,
      async fn() {
        const opened = await open();
        try {
          await body(opened.device);
        } finally {
          await opened.device.close();
          await opened.cleanup?.();
        }
      },
    });
  };

  test("reports a sane geometry", async (device) => {
    assert(device.sizeBytes >= CONFORMANCE_DEVICE_SIZE_MIN, `size ${device.sizeBytes}`);
    assert(isPowerOfTwo(device.alignmentBytes), `alignment ${device.alignmentBytes}`);
    assert(isPowerOfTwo(device.physicalBlockSize), `pbs ${device.physicalBlockSize}`);
    assert(device.physicalBlockSize >= 512, `pbs ${device.physicalBlockSize}`);
    assertEquals(device.sizeBytes % device.alignmentBytes, 0);
    assertEquals(device.readOnly, false);
    assert(isZero(await device.read(0, 4096)), "a fresh device reads zeroes");
  });

  test("tryReadIntoSync() returns the written bytes or false, never wrong data", async (device) => {
    if (device.tryReadIntoSync === undefined) return;
    const unit = Math.max(device.alignmentBytes, 4096);
    await device.write(unit, pattern(unit, 2 * unit, 3));
    const target = new Uint8Array(2 * unit);
    if (device.tryReadIntoSync(unit, target)) assertEquals(target, pattern(unit, 2 * unit, 3));
    assertEquals(device.tryReadIntoSync(device.sizeBytes - unit, new Uint8Array(2 * unit)), false);
    assertEquals(device.tryReadIntoSync(-unit, new Uint8Array(unit)), false);
    await device.close();
    assertEquals(device.tryReadIntoSync(unit, target), false, "closed");
  });

  test("writeGather() writes its parts joined, across bounce chunks", async (device) => {
    if (device.writeGather === undefined) return;
    const unit = Math.max(device.alignmentBytes, 4096);
    const offset = unit;
    const length = 4 * 1024 * 1024 + unit; // past one 4 MiB bounce chunk
    const whole = pattern(offset, length, 7);
    const cuts = [0, 1000, 1000, 1000 + 4 * 1024 * 1024, length - 3, length];
    const parts = cuts.slice(1).map((end, index) => whole.subarray(cuts[index], end));
    await device.writeGather(offset, parts);
    assertEquals(await device.read(offset, length), whole);
    assert(isZero(await device.read(0, unit)), "nothing before");
    assert(isZero(await device.read(offset + length, unit)), "nothing after");
  });

  test("writeList() writes every entry, in place", async (device) => {
    if (device.writeList === undefined) return;
    const unit = Math.max(device.alignmentBytes, 4096);
    const source = pattern(0, 64 * unit, 9);
    const writes = Array.from({ length: 20 }, (_, index) => ({
      offsetBytes: (40 - 2 * index) * unit,
      data: source.subarray(index * unit, (index + 1) * unit),
    }));
    writes.push({ offsetBytes: unit, data: Uint8Array.from(source.subarray(0, unit)) });
    await device.writeList(writes);
    for (const write of writes) {
      assertEquals(await device.read(write.offsetBytes, unit), write.data);
    }
    assert(isZero(await device.read(3 * unit, unit)), "between the writes");
    await assertRejects(
      () => device.writeList!([{ offsetBytes: device.sizeBytes, data: source.subarray(0, unit) }]),
      BlockRangeError,
    );
  });

  test("reads back what was written, at the start, the middle and the end", async (device) => {
    const unit = Math.max(device.alignmentBytes, 4096);
    const places = [0, 3 * unit, device.sizeBytes - unit];
    for (const [i, offset] of places.entries()) {
      await device.write(offset, pattern(offset, unit, i));
    }
    for (const [i, offset] of places.entries()) {
      assertEquals(await device.read(offset, unit), pattern(offset, unit, i));
      const target = new Uint8Array(unit);
      await device.readInto(offset, target);
      assertEquals(target, pattern(offset, unit, i));
    }
    assert(isZero(await device.read(unit, unit)), "an unwritten block between stays zero");
  });

  test("round-trips I/O larger than a bounce chunk and across chunk edges", async (device) => {
    const alignment = device.alignmentBytes;
    const offset = 1024 * 1024 - 8 * Math.max(alignment, 512);
    const length = 3 * 1024 * 1024 + 16 * Math.max(alignment, 512);
    await device.write(offset, pattern(offset, length, 7));
    assertEquals(await device.read(offset, length), pattern(offset, length, 7));
    const middle = offset + 1024 * 1024;
    assertEquals(await device.read(middle, 4096), pattern(middle, 4096, 7).subarray(0));
  });

  test("rejects out-of-range requests with BlockRangeError", async (device) => {
    const unit = device.alignmentBytes;
    await assertRejects(() => device.read(device.sizeBytes, unit), BlockRangeError, "past");
    await assertRejects(
      () => device.write(device.sizeBytes - unit, new Uint8Array(2 * unit)),
      BlockRangeError,
      "past",
    );
    await assertRejects(() => device.read(-unit, unit), BlockRangeError, "offset");
    await assertRejects(() => device.read(0.5, 1), BlockRangeError, "offset");
    await assertRejects(() => device.writeZeroes(0, device.sizeBytes + unit), BlockRangeError);
    await assertRejects(() => device.discard(device.sizeBytes, unit), BlockRangeError);
    assertEquals((await device.read(device.sizeBytes, 0)).length, 0);
    await device.write(0, new Uint8Array(0));
  });

  test("enforces its alignment (or accepts any offset when it is 1)", async (device) => {
    const alignment = device.alignmentBytes;
    if (alignment === 1) {
      await device.write(4097, pattern(4097, 1000));
      assertEquals(await device.read(4097, 1000), pattern(4097, 1000));
      assertEquals((await device.read(4096, 2))[0], 0);
      return;
    }
    await assertRejects(() => device.read(alignment / 2, alignment), BlockRangeError, "multiple");
    await assertRejects(() => device.read(0, alignment + 1), BlockRangeError, "multiple");
    await assertRejects(
      () => device.write(1, new Uint8Array(alignment)),
      BlockRangeError,
      "multiple",
    );
    await assertRejects(() => device.readInto(0, new Uint8Array(7)), BlockRangeError, "multiple");
    assert(isZero(await device.read(0, alignment)), "a rejected write did nothing");
  });

  test("writeZeroes() zeroes exactly its range", async (device) => {
    const unit = Math.max(device.alignmentBytes, 4096);
    const length = 8 * unit;
    await device.write(0, pattern(0, length));
    await device.writeZeroes(2 * unit, 3 * unit);
    const bytes = await device.read(0, length);
    assertEquals(bytes.subarray(0, 2 * unit), pattern(0, 2 * unit));
    assert(isZero(bytes.subarray(2 * unit, 5 * unit)), "zeroed range");
    assertEquals(bytes.subarray(5 * unit), pattern(5 * unit, 3 * unit));
    // Larger than the zero buffer of the fallbacks.
    await device.write(4 * 1024 * 1024, pattern(0, unit));
    await device.writeZeroes(unit, 4 * 1024 * 1024);
    assert(isZero(await device.read(4 * 1024 * 1024, unit)), "zeroed across chunks");
  });

  test("discard() leaves the outside untouched", async (device) => {
    const unit = Math.max(device.alignmentBytes, 4096);
    const length = 8 * unit;
    await device.write(0, pattern(0, length));
    await device.discard(2 * unit, 3 * unit);
    const bytes = await device.read(0, length);
    assertEquals(bytes.subarray(0, 2 * unit), pattern(0, 2 * unit));
    assertEquals(bytes.subarray(5 * unit), pattern(5 * unit, 3 * unit));
    if (options.discardZeroes) assert(isZero(bytes.subarray(2 * unit, 5 * unit)), "discarded");
    await device.write(3 * unit, pattern(3 * unit, unit, 9));
    assertEquals(await device.read(3 * unit, unit), pattern(3 * unit, unit, 9));
  });

  test("flush() keeps data readable", async (device) => {
    await device.write(0, pattern(0, 65536));
    await device.flush();
    await device.flush();
    assertEquals(await device.read(0, 65536), pattern(0, 65536));
  });

  test("serves concurrent reads and writes of separate ranges", async (device) => {
    const unit = Math.max(device.alignmentBytes, 4096) * 4;
    const offsets = Array.from({ length: 32 }, (_, i) => ((i * 7) % 32) * unit);
    await Promise.all(offsets.map((offset) => device.write(offset, pattern(offset, unit, 3))));
    const reads = await Promise.all(offsets.map((offset) => device.read(offset, unit)));
    for (const [i, offset] of offsets.entries()) assertEquals(reads[i], pattern(offset, unit, 3));
    await Promise.all([device.flush(), device.write(0, pattern(0, unit, 4))]);
    assertEquals(await device.read(0, unit), pattern(0, unit, 4));
  });

  test("rejects calls after close() with EBADF and closes twice", async (device) => {
    const pending = device.write(0, pattern(0, 4096));
    await device.close();
    await pending; // close() waits for calls in flight
    await device.close();
    const error = await assertRejects(() => device.read(0, 4096), BlockIoError, "closed");
    assertEquals(error.code, "EBADF");
    await assertRejects(() => device.write(0, new Uint8Array(4096)), BlockIoError, "closed");
    await assertRejects(() => device.flush(), BlockIoError, "closed");
  });
}

function isPowerOfTwo(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0 && (value & (value - 1)) === 0;
}
