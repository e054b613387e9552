import type { ByteSink } from "../io/stream.ts";
import { assertEquals, assertRejects } from "../testing/assert.ts";
import { ReplyWriter } from "./reply_writer.ts";

/** A sink that takes at most 3 bytes per write and records each write. */
class SlowSink implements ByteSink {
  writes: number[][] = [];
  failAfter = Infinity;
  async write(p: Uint8Array): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (this.writes.length >= this.failAfter) throw new Deno.errors.BrokenPipe("gone");
    const count = Math.min(3, p.length);
    this.writes.push(Array.from(p.subarray(0, count)));
    return count;
  }
}

Deno.test("ReplyWriter.send() never interleaves replies and coalesces queued ones", async () => {
  const sink = new SlowSink();
  const writer = new ReplyWriter(sink, 8);
  await Promise.all([
    writer.send(Uint8Array.of(1, 1, 1, 1)),
    writer.send(Uint8Array.of(2, 2)),
    writer.send(Uint8Array.of(3, 3, 3)),
    writer.send(Uint8Array.of(4, 4, 4, 4, 4, 4, 4, 4, 4, 4)),
  ]);
  assertEquals(sink.writes.flat(), [1, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]);
  // The first reply goes alone; the next two are joined into one 5-byte buffer.
  assertEquals(sink.writes[2], [2, 2, 3]);
});

Deno.test("ReplyWriter.send() rejects queued and later replies after a failed write", async () => {
  const sink = new SlowSink();
  sink.failAfter = 0;
  const writer = new ReplyWriter(sink, 8);
  const first = writer.send(Uint8Array.of(1));
  const second = writer.send(Uint8Array.of(2));
  await assertRejects(() => first, Deno.errors.BrokenPipe);
  await assertRejects(() => second, Deno.errors.BrokenPipe);
  assertEquals(writer.failed, true);
  await assertRejects(() => writer.send(Uint8Array.of(3)), Deno.errors.BrokenPipe);
});

Deno.test("ReplyWriter.enqueue() holds replies until flush(), then writes them together", async () => {
  const writes: number[][] = [];
  const writer = new ReplyWriter({
    write(p: Uint8Array) {
      writes.push(Array.from(p));
      return Promise.resolve(p.length);
    },
  });
  const sent = [writer.enqueue(Uint8Array.of(1)), writer.enqueue(Uint8Array.of(2, 2))];
  await Promise.resolve();
  assertEquals(writes.length, 0, "nothing written before flush");
  writer.flush();
  await Promise.all(sent);
  assertEquals(writes, [[1, 2, 2]]);
  writer.flush(); // nothing queued: no write
  assertEquals(writes.length, 1);
});
