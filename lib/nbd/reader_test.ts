import { CorruptDataError } from "../errors.ts";
import { type ByteSource, MemorySource } from "../io/stream.ts";
import { assertEquals, assertRejects } from "../testing/assert.ts";
import { NbdReader } from "./reader.ts";

/** Hands out the given chunks one read at a time (a socket delivering segments). */
class ChunkSource implements ByteSource {
  reads = 0;
  constructor(private chunks: Uint8Array[]) {}
  read(p: Uint8Array): Promise<number | null> {
    this.reads++;
    const chunk = this.chunks.shift();
    if (chunk === undefined) return Promise.resolve(null);
    const count = Math.min(p.length, chunk.length);
    p.set(chunk.subarray(0, count));
    if (count < chunk.length) this.chunks.unshift(chunk.subarray(count));
    return Promise.resolve(count);
  }
}

const bytes = (length: number, start = 0) =>
  Uint8Array.from({ length }, (_, index) => (start + index) & 0xff);

Deno.test("NbdReader.readExact() joins chunks and wraps around its buffer", async () => {
  const reader = new NbdReader(new ChunkSource([bytes(5), bytes(5, 5), bytes(30, 10)]), 16);
  const seen: number[] = [];
  for (let index = 0; index < 4; index++) {
    seen.push(...(await reader.readExact(10, "chunk"))!);
  }
  assertEquals(seen, Array.from(bytes(40)));
  assertEquals(reader.position, 40);
  assertEquals(await reader.readExact(10, "chunk"), null);
});

Deno.test("NbdReader.readExact() rejects a stream ending inside a message", async () => {
  const reader = new NbdReader(new ChunkSource([bytes(3)]), 16);
  const error = await assertRejects(() => reader.readExact(4, "header"), CorruptDataError);
  assertEquals(error.offset, 0);
  await assertRejects(
    () => new NbdReader(new ChunkSource([]), 16).readRequired(1, "x"),
    CorruptDataError,
  );
});

Deno.test("NbdReader.readInto() copies buffered bytes then reads large payloads directly", async () => {
  const source = new ChunkSource([bytes(20), bytes(1000, 20)]);
  const reader = new NbdReader(source, 64);
  assertEquals(Array.from((await reader.readExact(4, "head"))!), [0, 1, 2, 3]);
  const target = new Uint8Array(1016);
  await reader.readInto(target, "payload");
  assertEquals(target, bytes(1016, 4));
  assertEquals(reader.position, 1020);
  assertEquals(source.reads, 2);
});

Deno.test("NbdReader.readInto() rejects a short payload", async () => {
  const reader = new NbdReader(new ChunkSource([bytes(10)]), 64);
  const error = await assertRejects(
    () => reader.readInto(new Uint8Array(100), "payload"),
    CorruptDataError,
  );
  assertEquals(error.message.includes("after 10 of 100"), true);
});

Deno.test("NbdReader.skip() drops bytes without keeping them", async () => {
  const reader = new NbdReader(new ChunkSource([bytes(100), bytes(100, 100)]), 16);
  await reader.skip(150, "payload");
  assertEquals(Array.from((await reader.readExact(2, "rest"))!), [150, 151]);
  await assertRejects(() => reader.skip(100, "payload"), CorruptDataError);
});

Deno.test("NbdReader.takeBuffered() takes only bytes already read", async () => {
  const reader = new NbdReader(new MemorySource(Uint8Array.of(1, 2, 3, 4, 5)), 16);
  assertEquals(reader.takeBuffered(1), null, "nothing read yet");
  assertEquals(await reader.readExact(1, "first"), Uint8Array.of(1));
  assertEquals(reader.bufferedBytes, 4);
  assertEquals(reader.takeBuffered(5), null, "only 4 buffered");
  assertEquals(reader.takeBuffered(2), Uint8Array.of(2, 3));
  assertEquals(reader.position, 3);
  assertEquals(reader.bufferedBytes, 2);
});
