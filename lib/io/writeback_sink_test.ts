import { assertEquals } from "../testing/assert.ts";
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
