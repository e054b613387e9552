import { assert, assertEquals } from "../testing/assert.ts";
import { BufferedWriter } from "./stream.ts";
import { WritebackSink } from "./writeback_sink.ts";

Deno.test("WritebackSink writes every byte with background syncs and finishes", async () => {
  const path = await Deno.makeTempFile();
  try {
    const file = await Deno.open(path, { write: true });
    try {
      const sink = new WritebackSink(file, { intervalBytes: 1000 });
      const writer = new BufferedWriter(sink, 512);
      const expected = new Uint8Array(10_000).map((_, i) => i * 7);
      for (let at = 0; at < expected.length; at += 333) {
        await writer.write(expected.subarray(at, at + 333));
      }
      await writer.flush();
      await sink.finish();
      assertEquals(await Deno.readFile(path), expected);
    } finally {
      file.close();
    }
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("WritebackSink.settle() waits for a background sync without syncing", async () => {
  const path = await Deno.makeTempFile();
  try {
    const file = await Deno.open(path, { write: true });
    try {
      const sink = new WritebackSink(file, { intervalBytes: 1 });
      assertEquals(await sink.write(Uint8Array.of(1, 2)), 2);
      await sink.settle();
    } finally {
      file.close();
    }
    assertEquals(await Deno.readFile(path), Uint8Array.of(1, 2));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("WritebackSink starts further syncs while its caller only writes synchronously", async () => {
  // Each sync settles in an event loop turn (a message, as an op's completion), never by a
  // microtask alone, as fdatasync does; the writes in between never leave the microtask queue.
  let started = 0;
  const settleInATurn = () => {
    const channel = new MessageChannel();
    return new Promise<void>((resolve) => {
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  };
  const written: number[] = [];
  const file = {
    writeSync: (p: Uint8Array) => {
      written.push(...p);
      return p.length;
    },
    syncData: async () => {
      started++;
      await settleInATurn();
    },
  } as unknown as Deno.FsFile;
  const sink = new WritebackSink(file, { intervalBytes: 4 });
  for (let i = 0; i < 64; i++) await sink.write(Uint8Array.of(i));
  await sink.finish();
  assertEquals(written.length, 64);
  // One sync per 4 bytes at most, plus the final one; before, only the first ever started.
  assert(started > 2, `${started} syncs`);
  assert(started <= 64 / 4 + 1, `${started} syncs`);
});
