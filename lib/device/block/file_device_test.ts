import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import { BlockIoError } from "./block_device.ts";
import { blockDeviceConformance, pattern } from "./conformance_test_suite.ts";
import { FileDevice } from "./file_device.ts";

const TEMP_DIR = "/var/tmp";

async function tempImage(sizeBytes: number): Promise<string> {
  const path = await Deno.makeTempFile({ dir: TEMP_DIR, prefix: "walb-file-device-" });
  await Deno.truncate(path, sizeBytes);
  return path;
}

blockDeviceConformance("FileDevice", async () => {
  const path = await tempImage(8 * 1024 * 1024);
  return { device: await FileDevice.open(path), cleanup: () => Deno.remove(path) };
}, { discardZeroes: true });

Deno.test("FileDevice keeps flushed data across reopen", async () => {
  const path = await tempImage(1024 * 1024);
  try {
    const device = await FileDevice.open(path);
    await device.write(123, pattern(123, 5000));
    await device.flush();
    await device.close();
    const again = await FileDevice.open(path, { readOnly: true, physicalBlockSize: 4096 });
    try {
      assertEquals(again.sizeBytes, 1024 * 1024);
      assertEquals(again.physicalBlockSize, 4096);
      assertEquals(await again.read(123, 5000), pattern(123, 5000));
      const error = await assertRejects(() => again.discard(0, 512), BlockIoError, "read-only");
      assertEquals(error.code, "EROFS");
    } finally {
      await again.close();
    }
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("FileDevice discard() punches a hole (fewer allocated blocks)", async () => {
  const path = await tempImage(4 * 1024 * 1024);
  try {
    const device = await FileDevice.open(path);
    try {
      await device.write(0, pattern(0, 4 * 1024 * 1024));
      await device.flush();
      const before = (await Deno.stat(path)).blocks ?? 0;
      await device.discard(1024 * 1024, 2 * 1024 * 1024);
      const after = (await Deno.stat(path)).blocks ?? 0;
      assert(after < before, `blocks ${before} -> ${after}`);
      assertEquals((await Deno.stat(path)).size, 4 * 1024 * 1024);
    } finally {
      await device.close();
    }
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("FileDevice reports a file shrunk behind its back as EIO", async () => {
  const path = await tempImage(1024 * 1024);
  try {
    const device = await FileDevice.open(path);
    try {
      await Deno.truncate(path, 4096);
      const error = await assertRejects(() => device.read(8192, 512), BlockIoError, "shorter");
      assertEquals(error.code, "EIO");
    } finally {
      await device.close();
    }
  } finally {
    await Deno.remove(path);
  }
});
