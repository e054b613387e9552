import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import { BlockIoError } from "./block_device.ts";
import { blockDeviceConformance, pattern } from "./conformance_test_suite.ts";
import { DirectDevice } from "./direct_device.ts";
import { alignedBytes, isAlignedBytes } from "../../../ffi/libc.ts";

/** ext4 here; the test checks O_DIRECT works before relying on it. */
const TEMP_DIR = "/var/tmp";

async function tempImage(sizeBytes: number, dir = TEMP_DIR): Promise<string> {
  const path = await Deno.makeTempFile({ dir, prefix: "walb-direct-device-" });
  await Deno.truncate(path, sizeBytes);
  return path;
}

async function directSupported(): Promise<string | undefined> {
  const path = await tempImage(4096);
  try {
    await (await DirectDevice.open(path)).close();
    return undefined;
  } catch (error) {
    if (error instanceof BlockIoError) {
      return `O_DIRECT unsupported in ${TEMP_DIR}: ${error.message}`;
    }
    throw error;
  } finally {
    await Deno.remove(path);
  }
}

const skipReason = await directSupported();

blockDeviceConformance("DirectDevice on a /var/tmp file", async () => {
  const path = await tempImage(8 * 1024 * 1024);
  return { device: await DirectDevice.open(path), cleanup: () => Deno.remove(path) };
}, skipReason === undefined ? { discardZeroes: true } : { skipReason });

Deno.test({
  name: "DirectDevice bypasses the page cache and keeps flushed data across reopen",
  ignore: skipReason !== undefined,
  async fn() {
    const path = await tempImage(1024 * 1024 + 100); // size rounds down to the alignment
    try {
      const device = await DirectDevice.open(path);
      assert(!device.isBlockDevice);
      assertEquals(device.sizeBytes % device.alignmentBytes, 0);
      assert(device.sizeBytes >= 1024 * 1024 && device.sizeBytes < 1024 * 1024 + 100);
      await device.write(8192, pattern(8192, 4096));
      await device.flush();
      await device.close();
      // A buffered read sees O_DIRECT writes: the kernel keeps the two coherent.
      const bytes = await Deno.readFile(path);
      assertEquals(bytes.subarray(8192, 8192 + 4096), pattern(8192, 4096));
      const readOnly = await DirectDevice.open(path, { readOnly: true, physicalBlockSize: 4096 });
      try {
        assertEquals(readOnly.physicalBlockSize, 4096);
        assertEquals(await readOnly.read(8192, 4096), pattern(8192, 4096));
        const error = await assertRejects(
          () => readOnly.write(0, new Uint8Array(4096)),
          BlockIoError,
        );
        assertEquals(error.code, "EROFS");
      } finally {
        await readOnly.close();
      }
    } finally {
      await Deno.remove(path);
    }
  },
});

Deno.test("DirectDevice.open() refuses tmpfs with a clear error", async () => {
  const path = await tempImage(65536, "/dev/shm");
  try {
    const error = await assertRejects(() => DirectDevice.open(path), BlockIoError, "tmpfs");
    assertEquals(error.code, "EINVAL");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("DirectDevice.open() names the path of a missing or odd file", async () => {
  await assertRejects(() => DirectDevice.open("/nonexistent/x"), Deno.errors.NotFound);
  await assertRejects(() => DirectDevice.open("/dev/null"), BlockIoError, "not a block device");
});

Deno.test({
  name: "DirectDevice.refreshSize() sees a file grown after open (rounded to the alignment)",
  ignore: skipReason !== undefined,
  async fn() {
    const path = await tempImage(1024 * 1024);
    const device = await DirectDevice.open(path);
    try {
      await Deno.truncate(path, 2 * 1024 * 1024 + 100);
      assertEquals(device.sizeBytes, 1024 * 1024, "fixed until refreshed");
      assertEquals(await device.refreshSize(), 2 * 1024 * 1024);
      await device.write(1024 * 1024, pattern(1024 * 1024, 4096));
      assertEquals(await device.read(1024 * 1024, 4096), pattern(1024 * 1024, 4096));
      await device.close();
      const error = await assertRejects(() => device.refreshSize(), BlockIoError, "closed");
      assert(error.cause instanceof Error, "the close record is the cause");
    } finally {
      await device.close();
      await Deno.remove(path);
    }
  },
});

Deno.test({
  name: "DirectDevice.writeGather() writes page-aligned parts in place and others via bounce",
  ignore: skipReason !== undefined,
  async fn() {
    const path = await tempImage(4 * 1024 * 1024);
    const device = await DirectDevice.open(path);
    try {
      const unit = device.alignmentBytes;
      // In place: aligned memory, lengths multiples of the alignment.
      const a = alignedBytes(64 * 1024).fill(1);
      const b = alignedBytes(8 * unit).fill(2);
      assert(isAlignedBytes(a, 4096) && isAlignedBytes(b, 4096), "aligned memory");
      await device.writeGather(unit, [a, b]);
      assertEquals(await device.read(unit, a.length + b.length), concat([a, b]));
      // Mixed: one part unaligned in memory (a view at byte 1) falls back to the bounce path.
      const c = new Uint8Array(2 * unit + 1).fill(3).subarray(1);
      assert(!isAlignedBytes(c, 4096), "unaligned view");
      await device.writeGather(3 * unit, [a.subarray(0, 4 * unit), c]);
      assertEquals(await device.read(3 * unit, 6 * unit), concat([a.subarray(0, 4 * unit), c]));
      // Lengths that split the alignment unit: bounce path, bytes as given.
      const half = unit / 2;
      const parts = [alignedBytes(8192).fill(4).subarray(0, half), new Uint8Array(half).fill(5)];
      await device.writeGather(0, parts);
      assertEquals(await device.read(0, unit), concat(parts));
    } finally {
      await device.close();
      await Deno.remove(path);
    }
  },
});

Deno.test("alignedBytes() gives zeroed memory at an aligned address; small sizes are plain", () => {
  for (const size of [4096, 65536, 1 << 20, 1 + (1 << 20)]) {
    const bytes = alignedBytes(size);
    assertEquals(bytes.length, size);
    assert(isAlignedBytes(bytes, 4096), `${size} bytes aligned`);
    assert(bytes.every((byte) => byte === 0), "zeroed");
  }
  assertEquals(alignedBytes(100).length, 100);
  assert(!isAlignedBytes(new Uint8Array(100), 1), "small buffers may move: never in place");
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let position = 0;
  for (const part of parts) {
    out.set(part, position);
    position += part.length;
  }
  return out;
}
