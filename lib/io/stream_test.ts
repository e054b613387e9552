import { assertEquals, assertRejects } from "../testing/assert.ts";
import { CorruptDataError } from "../errors.ts";
import { BufferedReader, type ByteSource, MemorySource } from "./stream.ts";

/** A source giving at most `chunk` bytes per read (pipes and sockets read short). */
function shortReads(bytes: Uint8Array, chunk: number): ByteSource {
  const inner = new MemorySource(bytes);
  return { read: (p) => inner.read(p.subarray(0, Math.min(p.length, chunk))) };
}

Deno.test("BufferedReader.readExactInto() gives the bytes readExact gives, small and large", async () => {
  const bytes = new Uint8Array(600_000).map((_, i) => (i * 31) & 0xff);
  for (const chunk of [1000, 70_000, 1 << 20]) {
    const reader = new BufferedReader(shortReads(bytes, chunk), 4096);
    let at = 0;
    for (const planned of [10, 100_000, 3, 65_536, 200_000, 1, -1]) {
      const size = planned >= 0 ? planned : bytes.length - at - 7; // the rest
      const target = new Uint8Array(size);
      await reader.readExactInto(target, "test");
      assertEquals(target, bytes.subarray(at, at + size), `chunk ${chunk} size ${size}`);
      at += size;
      assertEquals(reader.position, at);
      // Interleave a buffered read.
      const view = await reader.readExact(7, "test");
      assertEquals(view, bytes.subarray(at, at + 7));
      at += 7;
    }
    assertEquals(await reader.atEof(), true);
  }
});

Deno.test("BufferedReader.readExactInto() reports the end of the stream as readRequired does", async () => {
  const bytes = new Uint8Array(100_000);
  for (const size of [10, 200_000]) {
    const reader = new BufferedReader(new MemorySource(bytes), 4096);
    await reader.readExactInto(new Uint8Array(99_990), "head");
    const error = await assertRejects(
      () => reader.readExactInto(new Uint8Array(size + 10), "tail"),
      CorruptDataError,
    );
    assertEquals(
      error.message,
      `Cannot read tail at offset 99990: stream ends after 10 of ${size + 10} bytes`,
    );
  }
  const empty = new BufferedReader(new MemorySource(new Uint8Array(0)));
  const error = await assertRejects(
    () => empty.readExactInto(new Uint8Array(5), "x"),
    CorruptDataError,
  );
  assertEquals(error.message, "Cannot read x at offset 0: stream ends, 5 bytes expected");
});
