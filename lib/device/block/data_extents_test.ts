import { assertEquals } from "../../testing/assert.ts";
import { HoleFinder } from "./data_extents.ts";

Deno.test("HoleFinder.isHole() tells holes from data in a sparse file", async () => {
  const path = await Deno.makeTempFile();
  try {
    const file = await Deno.open(path, { write: true });
    await file.truncate(8 << 20);
    file.seekSync(4 << 20, Deno.SeekMode.Start);
    file.writeSync(new Uint8Array(4096).fill(1));
    file.close();
    const finder = HoleFinder.open(path);
    if (finder === null) return; // no FFI permission
    try {
      const mib = 1 << 20;
      // Queries in increasing order, then backwards (the cache must not answer those).
      const answers = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => finder.isHole(k * mib, mib));
      // Filesystems without hole tracking say "data" everywhere; never "hole" over data.
      assertEquals(answers[4], false);
      if (answers[0]) assertEquals(answers, [true, true, true, true, false, true, true, true]);
      assertEquals(finder.isHole(4 * mib + 8192, 4096), answers[5]);
      assertEquals(finder.isHole(3 * mib, 2 * mib), false);
    } finally {
      finder.close();
    }
  } finally {
    await Deno.remove(path);
  }
});
