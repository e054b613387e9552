/**
 * wdiff formats against the reference vectors: wdiff-show text byte for byte, every codec's
 * file decoded with all checksums verified, wdiff-full byte for byte, packs re-encoded
 * identically.
 */
import { assert, assertEquals, VECTORS_DIR } from "../../lib/testing/assert.ts";
import { MemoryRandomAccess } from "../../lib/io/random_access.ts";
import { MemorySink, MemorySource } from "../../lib/io/stream.ts";
import {
  buildPackHeader,
  IndexedWdiffReader,
  openWdiff,
  SortedWdiffReader,
  type WdiffReader,
} from "../../lib/format/wdiff/mod.ts";
import { command as wdiffShow } from "../../cmd/wdiff_show.ts";
import { writeFullWdiff } from "../../cmd/wdiff_full.ts";

const wdiffNames = [...Deno.readDirSync(VECTORS_DIR)]
  .map((entry) => entry.name)
  .filter((name) => name.endsWith(".wdiff"))
  .sort();

async function runShow(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new MemorySink();
  const stderr = new MemorySink();
  const code = await wdiffShow.run(args, {
    stdin: new MemorySource(new Uint8Array()),
    stdout,
    stderr,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

for (const name of wdiffNames) {
  const showPath = `${VECTORS_DIR}${name}-show.txt`;
  let expected: string;
  try {
    expected = Deno.readTextFileSync(showPath);
  } catch {
    continue;
  }
  Deno.test(`wdiff-show -csum -stat ${name} equals the vector text`, async () => {
    const result = await runShow(["-csum", "-stat", `${VECTORS_DIR}${name}`]);
    assertEquals(result.stderr, "");
    assertEquals(result.code, 0);
    assertEquals(result.stdout, expected);
  });
}

/** Applies every record of `reader` onto `image` (zero and discard → zeros). */
async function applyAll(reader: WdiffReader, image: Uint8Array): Promise<number> {
  let count = 0;
  for await (const record of reader.records()) {
    const start = record.ioAddress * 512;
    const end = start + record.ioBlocks * 512;
    if (record.data !== null) image.set(record.data, start);
    else image.fill(0, start, end);
    count++;
  }
  return count;
}

const base = Deno.readFileSync(`${VECTORS_DIR}base-2M.img`);

Deno.test("every vector wdiff decodes with all checksums verified", async () => {
  for (const name of wdiffNames) {
    const { reader, close } = await openWdiff(`${VECTORS_DIR}${name}`);
    try {
      const count = await applyAll(reader, new Uint8Array(4 << 20));
      assert(count > 0, name);
    } finally {
      close();
    }
  }
});

Deno.test("base-2M.full.<codec>.wdiff decode to base-2M.img", async () => {
  for (const name of wdiffNames.filter((n) => n.startsWith("base-2M.full."))) {
    const { reader, close } = await openWdiff(`${VECTORS_DIR}${name}`);
    const image = new Uint8Array(base.length);
    await applyAll(reader, image);
    close();
    assert(image.every((byte, i) => byte === base[i]), name);
  }
});

Deno.test("sorted vector packs re-encode to the same bytes", async () => {
  for (const name of wdiffNames) {
    const bytes = Deno.readFileSync(`${VECTORS_DIR}${name}`);
    const { reader, close } = await openWdiff(new MemoryRandomAccess(bytes));
    if (reader instanceof SortedWdiffReader) {
      for await (const pack of reader.packs()) {
        assertEquals(buildPackHeader(pack.header.records), pack.block, name);
      }
    }
    close();
  }
});

Deno.test("wdiff-full of base-2M.img equals base-2M.full.sorted.wdiff", async () => {
  const sink = new MemorySink();
  const count = await writeFullWdiff(new MemorySource(base), sink, {
    ioSize: 65536,
    indexed: false,
  });
  assertEquals(count, 32);
  const expected = Deno.readFileSync(`${VECTORS_DIR}base-2M.full.sorted.wdiff`);
  assertEquals(sink.bytes(), expected);
});

Deno.test("wdiff-full -indexed decodes to base-2M.img and differs only in garbage", async () => {
  const sink = new MemorySink();
  await writeFullWdiff(new MemorySource(base), sink, { ioSize: 65536, indexed: true });
  const bytes = sink.bytes();
  const reader = await IndexedWdiffReader.open(new MemoryRandomAccess(bytes));
  const image = new Uint8Array(base.length);
  assertEquals(await applyAll(reader, image), 32);
  assertEquals(image, base);
  const original = Deno.readFileSync(`${VECTORS_DIR}base-2M.full.indexed.wdiff`);
  assertEquals(bytes.length, original.length);
  // Same data area and super block; index records differ only in flags/reserved2/rec_checksum.
  const indexOffset = reader.indexOffset;
  assertEquals(bytes.subarray(0, indexOffset), original.subarray(0, indexOffset));
  assertEquals(bytes.subarray(bytes.length - 24), original.subarray(original.length - 24));
  for (let at = indexOffset; at < bytes.length - 24; at += 48) {
    for (let i = 0; i < 48; i++) {
      if (i === 12 || (i >= 36 && i < 40) || i >= 44) continue;
      assertEquals(bytes[at + i], original[at + i], `index byte ${at + i}`);
    }
  }
});

Deno.test("wdiff-show exits with the worst result over all files", async () => {
  const good = `${VECTORS_DIR}w2.sorted.wdiff`;
  const bytes = Deno.readFileSync(good);
  bytes[32 + 4096 + 10]! ^= 0xff; // inside the first record's payload
  const bad = await Deno.makeTempFile({ suffix: ".wdiff" });
  try {
    Deno.writeFileSync(bad, bytes);
    const result = await runShow(["-csum", "-norec", bad, good]);
    assertEquals(result.code, 1);
    assert(result.stdout.includes("invalid data checksum: "), result.stdout);
    const reversed = await runShow(["-csum", "-norec", good, bad]);
    assertEquals(reversed.code, 1);
  } finally {
    Deno.removeSync(bad);
  }
});

Deno.test("wdiff-show prints an invalid pack and -search limits records", async () => {
  const bytes = Deno.readFileSync(`${VECTORS_DIR}w2.sorted.wdiff`);
  bytes[32 + 20]! ^= 1; // first record's io_address: pack checksum fails
  const bad = await Deno.makeTempFile({ suffix: ".wdiff" });
  try {
    Deno.writeFileSync(bad, bytes);
    const result = await runShow(["-nohead", bad]);
    assertEquals(result.code, 1);
    const lines = result.stdout.split("\n");
    assert(lines[0]!.startsWith("invalid pack: checksum: "), lines[0]);
    assertEquals(lines.slice(1, 4), ["n_records: 11", "total_size: 3245", "isEnd: 0"]);
    assert(lines[4]!.startsWith("record 0: wdiff_rec:\t"), lines[4]);
  } finally {
    Deno.removeSync(bad);
  }
  const search = await runShow([
    "-nohead",
    "-search",
    "-addr",
    "1080",
    `${VECTORS_DIR}w2.sorted.wdiff`,
  ]);
  assertEquals(search.stdout, "wdiff_sorted_rec:\t1071\t41\tnone\t680\t0\t00000000\tZ-\n");
});
