import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import { BlockIoError } from "./block_device.ts";
import { blockDeviceConformance, pattern } from "./conformance_test_suite.ts";
import { DirectDevice } from "./direct_device.ts";

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
