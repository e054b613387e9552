import { assertEquals } from "../../testing/assert.ts";
import { HoleFinder } from "./data_extents.ts";
import { FileRangeZeroer } from "./zero_range.ts";

Deno.test("FileRangeZeroer.zero() zeroes written (unsynced) data and leaves holes as holes", async () => {
  const path = await Deno.makeTempFile();
  try {
    const mib = 1 << 20;
    const file = await Deno.open(path, { read: true, write: true });
    await file.truncate(8 * mib);
    file.seekSync(2 * mib, Deno.SeekMode.Start);
    file.writeSync(new Uint8Array(2 * mib).fill(7)); // data in [2, 4) MiB, still dirty
    const zeroer = FileRangeZeroer.open(path);
    if (zeroer === null) return; // no FFI permission
    try {
      assertEquals(zeroer.zero(3 * mib, 2 * mib), true); // half data, half hole
      assertEquals(zeroer.zero(6 * mib, mib), true); // a hole
    } finally {
      zeroer.close();
    }
    const bytes = await Deno.readFile(path);
    assertEquals(bytes.subarray(2 * mib, 3 * mib).every((b) => b === 7), true);
    assertEquals(bytes.subarray(3 * mib).every((b) => b === 0), true);
    assertEquals(bytes.length, 8 * mib);
    file.close();
    const holes = HoleFinder.open(path);
    try {
      // Filesystems without hole tracking report data everywhere; then nothing to check.
      if (holes !== null && holes.isHole(0, mib)) assertEquals(holes.isHole(6 * mib, mib), true);
    } finally {
      holes?.close();
    }
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("FileRangeZeroer.zero() zeroes only the data segments of a range", async () => {
  const path = await Deno.makeTempFile();
  try {
    const mib = 1 << 20;
    const file = await Deno.open(path, { read: true, write: true });
    await file.truncate(8 * mib);
    file.seekSync(0, Deno.SeekMode.Start);
    file.writeSync(new Uint8Array(1024).fill(7)); // part of the first block
    file.seekSync(5 * mib, Deno.SeekMode.Start);
    file.writeSync(new Uint8Array(4096).fill(9)); // data in the middle of the range
    const zeroer = FileRangeZeroer.open(path);
    if (zeroer === null) return; // no FFI permission
    try {
      assertEquals(zeroer.zero(512, 6 * mib), true); // starts in the partly written block
    } finally {
      zeroer.close();
    }
    const bytes = await Deno.readFile(path);
    assertEquals(bytes.subarray(0, 512).every((b) => b === 7), true);
    assertEquals(bytes.subarray(512).every((b) => b === 0), true);
    file.close();
    const holes = HoleFinder.open(path);
    try {
      if (holes !== null && holes.isHole(2 * mib, mib)) {
        // The hole behind the partly written block stays a hole.
        assertEquals(holes.isHole(mib, 3 * mib), true);
      }
    } finally {
      holes?.close();
    }
  } finally {
    await Deno.remove(path);
  }
});
