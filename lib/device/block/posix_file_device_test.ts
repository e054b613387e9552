import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import { BlockIoError, BlockRangeError } from "./block_device.ts";
import { blockDeviceConformance, pattern } from "./conformance_test_suite.ts";
import { PosixFileDevice } from "./posix_file_device.ts";

const TEMP_DIR = "/var/tmp";

async function tempImage(sizeBytes: number): Promise<string> {
  const path = await Deno.makeTempFile({ dir: TEMP_DIR, prefix: "walb-posix-device-" });
  await Deno.truncate(path, sizeBytes);
  return path;
}

blockDeviceConformance("PosixFileDevice", async () => {
  const path = await tempImage(8 * 1024 * 1024);
  return { device: await PosixFileDevice.open(path), cleanup: () => Deno.remove(path) };
}, { discardZeroes: true });

Deno.test("PosixFileDevice keeps flushed data across reopen", async () => {
  const path = await tempImage(1024 * 1024);
  try {
    const device = await PosixFileDevice.open(path);
    await device.write(123, pattern(123, 5000));
    await device.write(9000, pattern(9000, 10)); // small: through native memory
    await device.flush();
    await device.close();
    const again = await PosixFileDevice.open(path, { readOnly: true, physicalBlockSize: 4096 });
    try {
      assertEquals(again.sizeBytes, 1024 * 1024);
      assertEquals(again.physicalBlockSize, 4096);
      assertEquals(await again.read(123, 5000), pattern(123, 5000));
      assertEquals(await again.read(9000, 10), pattern(9000, 10));
      const error = await assertRejects(() => again.discard(0, 512), BlockIoError, "read-only");
      assertEquals(error.code, "EROFS");
    } finally {
      await again.close();
    }
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("PosixFileDevice reads into a view at an offset of a larger buffer", async () => {
  const path = await tempImage(1024 * 1024);
  const device = await PosixFileDevice.open(path);
  try {
    await device.write(65536, pattern(65536, 300_000));
    const buffer = new Uint8Array(400_000).fill(7);
    await device.readInto(65536, buffer.subarray(1000, 301_000));
    assertEquals(buffer.subarray(1000, 301_000), pattern(65536, 300_000));
    assert(buffer.subarray(0, 1000).every((byte) => byte === 7), "bytes before the view kept");
    assert(buffer.subarray(301_000).every((byte) => byte === 7), "bytes after the view kept");
  } finally {
    await device.close();
    await Deno.remove(path);
  }
});

Deno.test("PosixFileDevice reads data not in the page cache (the blocking-pool path)", async () => {
  const path = await tempImage(4 * 1024 * 1024);
  try {
    const data = pattern(0, 4 * 1024 * 1024, 5);
    await Deno.writeFile(path, data);
    // Drop the file's pages so RWF_NOWAIT reads find nothing cached.
    const evict = new Deno.Command("dd", {
      args: [`if=${path}`, "iflag=nocache", "count=0"],
      stderr: "null",
    });
    await evict.output().catch(() => undefined);
    const device = await PosixFileDevice.open(path, { readOnly: true });
    try {
      for (const offset of [0, 4096, 1 << 20, 3 << 20]) {
        assertEquals(await device.read(offset, 4096), data.subarray(offset, offset + 4096));
      }
    } finally {
      await device.close();
    }
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("PosixFileDevice discard() punches a hole (fewer allocated blocks)", async () => {
  const path = await tempImage(4 * 1024 * 1024);
  try {
    const device = await PosixFileDevice.open(path);
    try {
      await device.write(0, pattern(0, 4 * 1024 * 1024));
      await device.flush();
      const before = (await Deno.stat(path)).blocks ?? 0;
      await device.discard(1024 * 1024, 2 * 1024 * 1024);
      const after = (await Deno.stat(path)).blocks ?? 0;
      assert(after < before, `blocks ${before} -> ${after}`);
      assertEquals((await Deno.stat(path)).size, 4 * 1024 * 1024);
      assertEquals(await device.read(1024 * 1024, 4096), new Uint8Array(4096));
    } finally {
      await device.close();
    }
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("PosixFileDevice reports a file shrunk behind its back as EIO", async () => {
  const path = await tempImage(1024 * 1024);
  try {
    const device = await PosixFileDevice.open(path);
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

Deno.test("PosixFileDevice.open() reports a missing file as ENOENT", async () => {
  const error = await assertRejects(
    () => PosixFileDevice.open("/nonexistent/walb-posix-device"),
    BlockIoError,
  );
  assertEquals(error.code, "ENOENT");
});

Deno.test("PosixFileDevice.refreshSize() sees a file grown after open", async () => {
  const path = await tempImage(1024 * 1024);
  const device = await PosixFileDevice.open(path);
  try {
    await assertRejects(() => device.write(1024 * 1024, pattern(0, 512)), RangeError, "past");
    await Deno.truncate(path, 2 * 1024 * 1024);
    assertEquals(device.sizeBytes, 1024 * 1024, "fixed until refreshed");
    assertEquals(await device.refreshSize(), 2 * 1024 * 1024);
    assertEquals(device.sizeBytes, 2 * 1024 * 1024);
    await device.write(1024 * 1024, pattern(7, 512));
    assertEquals(await device.read(1024 * 1024, 512), pattern(7, 512));
  } finally {
    await device.close();
    await Deno.remove(path);
  }
});

Deno.test("PosixFileDevice use after close() names the closing call as the cause", async () => {
  const path = await tempImage(65536);
  const device = await PosixFileDevice.open(path);
  await device.close();
  try {
    const error = await assertRejects(() => device.write(0, pattern(0, 512)), BlockIoError);
    assertEquals(error.code, "EBADF");
    assert(error.cause instanceof Error, "the close record is the cause");
    assert(error.cause.stack?.includes("posix_file_device_test.ts") ?? false, "close stack");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("PosixFileDevice.tryReadIntoSync() reads cached data on the spot", async () => {
  const path = await tempImage(4 * 1024 * 1024);
  const device = await PosixFileDevice.open(path);
  try {
    await device.write(8192, pattern(8192, 1024 * 1024));
    const target = new Uint8Array(1024 * 1024);
    // Just written through the page cache: cached (unless RWF_NOWAIT is missing).
    if (device.tryReadIntoSync(8192, target)) assertEquals(target, pattern(8192, 1024 * 1024));
    assertEquals(device.tryReadIntoSync(0, new Uint8Array(2 * 1024 * 1024)), false, "too big");
    assertEquals(device.tryReadIntoSync(0, new Uint8Array(0)), false, "empty");
  } finally {
    await device.close();
    await Deno.remove(path);
  }
});

Deno.test("PosixFileDevice.writeGather() writes the parts joined, small on this thread or big off it", async () => {
  const path = await tempImage(4 * 1024 * 1024);
  const device = await PosixFileDevice.open(path, { syncWriteSizeMaxBytes: 64 * 1024 });
  try {
    const source = pattern(0, 3 * 1024 * 1024);
    // Small (synchronous) with a tiny movable part, then big (blocking pool).
    await device.writeGather(512, [Uint8Array.of(9, 9), source.subarray(2, 1024)]);
    const small = await device.read(512, 1024);
    assertEquals(small.subarray(0, 2), Uint8Array.of(9, 9));
    assertEquals(small.subarray(2), source.subarray(2, 1024));
    const parts = [source.subarray(0, 1024 * 1024), source.subarray(1024 * 1024)];
    await device.writeGather(1024 * 1024, parts);
    assertEquals(await device.read(1024 * 1024, source.length), source);
    // Big with a movable part: written part by part.
    await device.writeGather(0, [Uint8Array.of(5), source.subarray(1, 128 * 1024)]);
    assertEquals((await device.read(0, 2))[0], 5);
    await assertRejects(
      () => device.writeGather(4 * 1024 * 1024 - 1, [Uint8Array.of(1, 2)]),
      BlockRangeError,
    );
  } finally {
    await device.close();
    await Deno.remove(path);
  }
});

Deno.test("PosixFileDevice.writeList() writes movable and empty entries one by one", async () => {
  const path = await tempImage(1024 * 1024);
  const device = await PosixFileDevice.open(path);
  try {
    const big = pattern(0, 8192);
    await device.writeList([
      { offsetBytes: 100, data: Uint8Array.of(7, 8) }, // movable: written alone
      { offsetBytes: 200, data: new Uint8Array(0) },
      { offsetBytes: 4096, data: big.subarray(0, 4096) },
    ]);
    assertEquals(await device.read(100, 2), Uint8Array.of(7, 8));
    assertEquals(await device.read(4096, 4096), big.subarray(0, 4096));
    await device.close();
    await assertRejects(
      () => device.writeList([{ offsetBytes: 0, data: big }]),
      BlockIoError,
      "closed",
    );
  } finally {
    await device.close();
    await Deno.remove(path);
  }
});
