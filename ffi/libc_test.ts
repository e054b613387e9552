import { assert, assertEquals, assertRejects, assertThrows } from "../lib/testing/assert.ts";
import {
  availableBytes,
  errnoName,
  IOV_MAX,
  isFfiAllowed,
  LibcError,
  LibcFile,
  NativeBuffer,
  O,
  TMPFS_MAGIC,
} from "./libc.ts";

const TEMP_DIR = "/var/tmp";

async function withTempFile(fn: (path: string) => Promise<void> | void): Promise<void> {
  const path = await Deno.makeTempFile({ dir: TEMP_DIR, prefix: "walb-libc-test-" });
  try {
    await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("NativeBuffer.allocate() returns zeroed, 4096-aligned memory", () => {
  const buffer = NativeBuffer.allocate(8192);
  try {
    assertEquals(buffer.byteLength, 8192);
    assertEquals(Deno.UnsafePointer.value(buffer.pointer) % 4096n, 0n);
    assert(buffer.bytes.every((b) => b === 0));
    buffer.bytes[5] = 7;
    const view = buffer.subarray(4, 8);
    assertEquals(view.bytes[1], 7);
    assertEquals(
      Deno.UnsafePointer.value(view.pointer) - Deno.UnsafePointer.value(buffer.pointer),
      4n,
    );
    assertThrows(() => buffer.subarray(0, 8193), RangeError);
  } finally {
    buffer.free();
    buffer.free(); // idempotent
  }
});

Deno.test("LibcFile pread()/pwrite() round-trip at offsets and report the size", async () => {
  await withTempFile(async (path) => {
    const file = LibcFile.open(path, { flags: O.RDWR });
    const buffer = NativeBuffer.allocate(4096);
    try {
      buffer.bytes.fill(0xab);
      assertEquals(await file.pwrite(buffer, 8192), 4096);
      await file.fdatasync();
      await file.fsync();
      assertEquals(file.sizeBytes(), 12288);
      buffer.bytes.fill(0);
      assertEquals(await file.pread(buffer.subarray(0, 100), 8192 + 4000), 96);
      assertEquals(buffer.bytes[0], 0xab);
      assertEquals(buffer.bytes[96], 0);
      await file.punchHole(8192, 4096);
      assertEquals(await file.pread(buffer, 8192), 4096);
      assert(buffer.bytes.every((b) => b === 0));
    } finally {
      buffer.free();
      file.close();
    }
  });
});

Deno.test("LibcFile.open() names the call, path and errno on failure", () => {
  const error = assertThrows(
    () => LibcFile.open("/nonexistent/walb-test", { flags: O.RDONLY }),
    LibcError,
    "Cannot open /nonexistent/walb-test: No such file or directory (ENOENT)",
  );
  assertEquals(error.errno, 2);
  assertEquals(error.code, "ENOENT");
  assertEquals(errnoName(28), "ENOSPC");
  assertEquals(errnoName(4242), "E4242");
});

Deno.test("LibcFile pread() with O_DIRECT and a misaligned offset fails with EINVAL", async () => {
  await withTempFile(async (path) => {
    // Written data, not a hole: ext4 may serve a misaligned read of a hole without checking.
    await Deno.writeFile(path, new Uint8Array(8192).fill(1));
    const file = LibcFile.open(path, { flags: O.RDWR | O.DIRECT });
    const buffer = NativeBuffer.allocate(4096);
    try {
      assertEquals(await file.pread(buffer, 4096), 4096);
      const error = await assertRejects(() => file.pread(buffer, 1), LibcError, "pread");
      assertEquals(error.code, "EINVAL");
    } finally {
      buffer.free();
      file.close();
    }
  });
});

Deno.test("LibcFile calls after close() fail with EBADF", async () => {
  await withTempFile(async (path) => {
    const file = LibcFile.open(path, { flags: O.RDONLY });
    file.close();
    file.close();
    assertEquals(file.fd, -1);
    assertThrows(() => file.sizeBytes(), LibcError, "EBADF");
    await assertRejects(() => file.fdatasync(), LibcError, "file is closed");
  });
});

Deno.test("LibcFile fileSystemType() tells tmpfs from /var/tmp", async () => {
  await withTempFile((path) => {
    const file = LibcFile.open(path, { flags: O.RDONLY });
    try {
      assert(file.fileSystemType() !== TMPFS_MAGIC);
    } finally {
      file.close();
    }
  });
  const shm = LibcFile.open("/dev/shm", { flags: O.RDONLY });
  try {
    assertEquals(shm.fileSystemType(), TMPFS_MAGIC);
  } finally {
    shm.close();
  }
});

Deno.test("ffi/libc.ts imports without FFI permission and fails only on use", async () => {
  assert(isFfiAllowed());
  const url = new URL("./libc.ts", import.meta.url).href;
  const script = await Deno.makeTempFile({ dir: TEMP_DIR, suffix: ".ts" });
  let output: Deno.CommandOutput;
  try {
    await Deno.writeTextFile(
      script,
      `const m = await import(${JSON.stringify(url)});
      console.log("imported", m.isFfiAllowed());
      try { m.LibcFile.open("/", { flags: 0 }); } catch (e) { console.log("use:", e.name); }`,
    );
    output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--allow-read", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } finally {
    await Deno.remove(script);
  }
  const stdout = new TextDecoder().decode(output.stdout);
  assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
  assertEquals(stdout, "imported false\nuse: NotCapable\n");
});

Deno.test("LibcFile directIoAlignment() reports the O_DIRECT unit of /var/tmp files", async () => {
  await withTempFile((path) => {
    const file = LibcFile.open(path, { flags: O.RDONLY });
    try {
      const alignment = file.directIoAlignment();
      // undefined on kernels before 6.1; otherwise a power of two, usually 512 or 4096.
      if (alignment !== undefined) {
        assert(
          alignment.offsetBytes > 0 && (alignment.offsetBytes & (alignment.offsetBytes - 1)) === 0,
        );
      }
    } finally {
      file.close();
    }
  });
});

Deno.test("LibcFile.pwritevFrom() gathers parts at an offset, on or off this thread", async () => {
  await withTempFile(async (path) => {
    const file = LibcFile.open(path, { flags: O.RDWR });
    try {
      const big = new Uint8Array(8192).fill(2);
      const parts = [Uint8Array.of(1, 1, 1), big.subarray(100, 4196), new Uint8Array(0)];
      assertEquals(await file.pwritevFrom(parts, 10, { sync: true }), 3 + 4096);
      const back = new Uint8Array(4099);
      assertEquals(await file.preadInto(back, 10), 4099);
      assertEquals(back.subarray(0, 4), Uint8Array.of(1, 1, 1, 2));
      assert(back.subarray(3).every((b) => b === 2));
      const other = new Uint8Array(16384).fill(3);
      const off = [other.subarray(0, 5000), other.subarray(6000, 9000)];
      assertEquals(await file.pwritevFrom(off, 20000, { sync: false }), 8000);
      assertEquals(file.sizeBytes(), 28000);
      await assertRejects(
        () => file.pwritevFrom([Uint8Array.of(1)], 0, { sync: false }),
        RangeError,
        "movable",
      );
      await assertRejects(
        () => file.pwritevFrom(new Array(IOV_MAX + 1).fill(big), 0, { sync: true }),
        RangeError,
      );
    } finally {
      file.close();
    }
    const closed = await assertRejects(
      () => file.pwritevFrom([Uint8Array.of(1)], 0, { sync: true }),
      LibcError,
    );
    assertEquals(closed.code, "EBADF");
  });
});

Deno.test("LibcFile.pwriteList() writes a list through lio_listio and reports each result", async () => {
  await withTempFile(async (path) => {
    const file = LibcFile.open(path, { flags: O.RDWR });
    try {
      const run = new Uint8Array(64 * 1024);
      for (let index = 0; index < run.length; index++) run[index] = index % 251;
      const writes = Array.from({ length: 40 }, (_, index) => ({
        offsetBytes: (39 - index) * 8192,
        data: run.subarray(index * 1024, index * 1024 + 4096),
      }));
      const results = await file.pwriteList(writes);
      assertEquals(results, writes.map(() => 4096));
      for (const write of [writes[0]!, writes[17]!, writes[39]!]) {
        const back = new Uint8Array(4096);
        assertEquals(await file.preadInto(back, write.offsetBytes), 4096);
        assertEquals(back, write.data);
      }
      assertEquals(await file.pwriteList([]), []);
      await assertRejects(
        () => file.pwriteList([{ offsetBytes: 0, data: Uint8Array.of(1) }]),
        RangeError,
        "movable",
      );
    } finally {
      file.close();
    }
    const readOnly = LibcFile.open(path, { flags: O.RDONLY });
    try {
      const [result] = await readOnly.pwriteList([{ offsetBytes: 0, data: new Uint8Array(4096) }]);
      assertEquals(result, -9, "EBADF: not open for writing");
    } finally {
      readOnly.close();
    }
  });
});

Deno.test("availableBytes() is df's Available column, and names a missing path", async () => {
  const output = await new Deno.Command("df", { args: ["-P", "-k", "/dev/shm"] }).output();
  const fields = new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!.split(/\s+/);
  // tmpfs: nothing else writes there during the test, so the two readings agree.
  assertEquals(Math.floor(availableBytes("/dev/shm") / 1024), Number(fields[3]));
  assertThrows(() => availableBytes("/nonexistent/walb"), LibcError, "ENOENT");
});
