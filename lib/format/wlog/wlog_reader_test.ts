import { ChecksumMismatchError, CorruptDataError } from "../../errors.ts";
import { BufferedReader, BufferedWriter, MemorySink, MemorySource } from "../../io/stream.ts";
import { assertEquals, assertRejects, toHex, VECTORS_DIR } from "../../testing/assert.ts";
import { LogpackBuilder } from "./logpack_builder.ts";
import { formatLogpack, WlogStatistics } from "./text.ts";
import { formatWlogHeader } from "./wlog_header.ts";
import { WlogReader } from "./wlog_reader.ts";
import { WlogWriter } from "./wlog_writer.ts";

function readerOf(bytes: Uint8Array, bufferSize?: number): BufferedReader {
  return new BufferedReader(new MemorySource(bytes), bufferSize);
}

async function show(bytes: Uint8Array): Promise<string> {
  const wlog = new WlogReader(readerOf(bytes));
  const header = await wlog.readHeader();
  if (header === null) throw new Error("no header");
  const lines = [formatWlogHeader(header)];
  const stats = new WlogStatistics(header.beginLsid, header.endLsid);
  for await (const pack of wlog.packs()) {
    lines.push(formatLogpack(pack.header));
    stats.add(pack.header, header.pbs, pack.nextLsid);
  }
  lines.push(stats.format());
  return lines.join("\n") + "\n";
}

for (const name of ["w1", "w2", "w3", "w4-pbs4k"]) {
  Deno.test(`WlogReader reads ${name}.wlog like wlog-show`, async () => {
    const bytes = await Deno.readFile(`${VECTORS_DIR}${name}.wlog`);
    const expected = await Deno.readTextFile(`${VECTORS_DIR}${name}.wlog-show.txt`);
    assertEquals(await show(bytes), expected);
  });
}

async function copyWlog(bytes: Uint8Array): Promise<Uint8Array> {
  const wlog = new WlogReader(readerOf(bytes, 4096));
  const header = await wlog.readHeader();
  if (header === null) throw new Error("no header");
  const sink = new MemorySink();
  const writer = new WlogWriter(new BufferedWriter(sink));
  await writer.writeHeader(header);
  for await (const pack of wlog.packs()) await writer.writePack(pack);
  assertEquals(wlog.stop?.reason, "end");
  await writer.close();
  return sink.bytes();
}

Deno.test("WlogWriter rewrites every vector byte for byte", async () => {
  for (const name of ["w1", "w2", "w3", "w4-pbs4k"]) {
    const bytes = await Deno.readFile(`${VECTORS_DIR}${name}.wlog`);
    assertEquals(await copyWlog(bytes), bytes, name);
  }
});

Deno.test("WlogReader continues with the next header of a concatenated stream", async () => {
  const w1 = await Deno.readFile(`${VECTORS_DIR}w1.wlog`);
  const w2 = await Deno.readFile(`${VECTORS_DIR}w2.wlog`);
  const both = new Uint8Array(w1.length + w2.length);
  both.set(w1);
  both.set(w2, w1.length);
  const wlog = new WlogReader(readerOf(both));
  const ends: bigint[] = [];
  let packs = 0;
  while ((await wlog.readHeader()) !== null) {
    for await (const _ of wlog.packs()) packs++;
    ends.push(wlog.endLsid);
  }
  assertEquals(ends, [399n, 272n]);
  assertEquals(packs, 3);
});

Deno.test("WlogReader stops at EOF without an end block and fails inside a payload", async () => {
  const w1 = await Deno.readFile(`${VECTORS_DIR}w1.wlog`);
  const noEnd = w1.subarray(0, w1.length - 512);
  const wlog = new WlogReader(readerOf(noEnd));
  await wlog.readHeader();
  for await (const _ of wlog.packs()) { /* drain */ }
  assertEquals([wlog.stop?.reason, wlog.endLsid], ["eof", 399n]);

  const cut = w1.subarray(0, 4096 + 512 + 100);
  const wlog2 = new WlogReader(readerOf(cut));
  await wlog2.readHeader();
  await assertRejects(
    async () => {
      for await (const _ of wlog2.packs()) { /* drain */ }
    },
    CorruptDataError,
    "log record 0 data at offset 4608",
  );
});

Deno.test("WlogReader reports a payload checksum mismatch with its offset", async () => {
  const w1 = (await Deno.readFile(`${VECTORS_DIR}w1.wlog`)).slice();
  w1[4096 + 512 + 10]! ^= 1;
  const wlog = new WlogReader(readerOf(w1));
  await wlog.readHeader();
  await assertRejects(
    async () => {
      for await (const _ of wlog.packs()) { /* drain */ }
    },
    ChecksumMismatchError,
    "log record 0 (lsid 1) payload at offset 4608",
  );
  const lenient = new WlogReader(readerOf(w1), { verifyPayload: false });
  await lenient.readHeader();
  let count = 0;
  for await (const _ of lenient.packs()) count++;
  assertEquals(count, 2);
});

Deno.test("WlogWriter refuses a pack at the wrong lsid", async () => {
  const writer = new WlogWriter(new BufferedWriter(new MemorySink()));
  await writer.writeHeader({
    salt: 3,
    pbs: 512,
    uuid: new Uint8Array(16),
    beginLsid: 0n,
    endLsid: 9n,
  });
  const builder = new LogpackBuilder({ pbs: 512, salt: 3, lsid: 1n });
  builder.addDiscard(0, 8);
  await assertRejects(() => writer.writePack(builder.seal()), CorruptDataError, "expected 0");
});

Deno.test("WlogReader borrowData gives the owned data of each pack, in reused buffers", async () => {
  for (const name of ["w1", "w4-pbs4k"]) {
    const bytes = await Deno.readFile(`${VECTORS_DIR}${name}.wlog`);
    const owned = new WlogReader(readerOf(bytes, 4096));
    const borrowed = new WlogReader(readerOf(bytes, 4096), { borrowData: true });
    await owned.readHeader();
    await borrowed.readHeader();
    const expected: Uint8Array[][] = [];
    for await (const pack of owned.packs()) expected.push(pack.ios.map((io) => io.data));
    let index = 0;
    const buffers = new Set<ArrayBufferLike>();
    for await (const pack of borrowed.packs()) {
      // Compared before the next pack is read: only then are the views valid.
      assertEquals(pack.ios.map((io) => io.data), expected[index++], `${name} pack ${index}`);
      for (const io of pack.ios) if (io.data.length > 0) buffers.add(io.data.buffer);
    }
    assertEquals(index, expected.length);
    assertEquals(buffers.size < expected.length, true, "buffers are reused across packs");
  }
});

Deno.test("WlogReader borrowData reads packs in place or not, with the same data and errors", async () => {
  const bytes = await Deno.readFile(`${VECTORS_DIR}w1.wlog`);
  const collect = async (input: Uint8Array, bufferSize: number, borrowData: boolean) => {
    const wlog = new WlogReader(readerOf(input, bufferSize), { borrowData });
    await wlog.readHeader();
    const seen: string[] = [];
    try {
      for await (const pack of wlog.packs()) {
        for (const io of pack.ios) seen.push(`${io.streamOffset}:${toHex(io.data.slice(0, 8))}`);
      }
    } catch (error) {
      seen.push(`${(error as Error).name}: ${(error as Error).message}`);
    }
    return [...seen, `stop ${wlog.stop?.reason} ${wlog.stop?.offset}`];
  };
  // Whole and cut inside the data of a pack; buffers that take whole packs and ones that do not.
  const cuts = [4096 + 512 + 700, Math.floor(bytes.length / 2) + 100, bytes.length - 300];
  for (const input of [bytes, ...cuts.map((cut) => bytes.subarray(0, cut))]) {
    const expected = await collect(input, 1 << 20, false);
    for (const bufferSize of [1 << 20, 4096]) {
      assertEquals(await collect(input, bufferSize, true), expected, `buffer ${bufferSize}`);
    }
  }
});
