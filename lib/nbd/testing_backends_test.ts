import { assertEquals } from "../testing/assert.ts";
import { FileBackend, MemoryBackend } from "./testing_backends.ts";

Deno.test("FileBackend reads what concurrent writes stored, trims to zeros and syncs", async () => {
  const path = await Deno.makeTempFile({ prefix: "nbd-file-backend-" });
  const backend = await FileBackend.open(path, { sizeBytes: 1 << 20, handleCount: 2 });
  try {
    assertEquals(backend.sizeBytes, 1 << 20);
    const writes = Array.from(
      { length: 16 },
      (_, index) =>
        backend.write(index * 4096, new Uint8Array(4096).fill(index + 1), { fua: index === 0 }),
    );
    await Promise.all(writes);
    await backend.flush();
    for (let index = 0; index < 16; index++) {
      const data = await backend.read(index * 4096, 4096);
      assertEquals(data.every((byte) => byte === index + 1), true);
    }
    await backend.trim(4096, 8192, { fua: true });
    assertEquals((await backend.read(4096, 8192)).every((byte) => byte === 0), true);
    assertEquals((await Deno.stat(path)).size, 1 << 20);
    assertEquals(backend.counters.fuaWrites, 1);
  } finally {
    backend.close();
    await Deno.remove(path);
  }
});

Deno.test("MemoryBackend reads, writes and trims its array", async () => {
  const backend = new MemoryBackend(8192);
  await backend.write(512, new Uint8Array(1024).fill(9), { fua: false });
  const target = new Uint8Array(1024);
  await backend.readInto(512, target);
  assertEquals(target.every((byte) => byte === 9), true);
  await backend.trim(512, 512);
  assertEquals(Array.from(await backend.read(1020, 8)), [0, 0, 0, 0, 9, 9, 9, 9]);
});
