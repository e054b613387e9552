/**
 * Review of the early frees in wdiff-merge (PackPayloadRelease of input pack payloads,
 * LazyDataRecord.releaseData of loaded records; commits 9f1073c and 5f8cb18): random
 * overlapping sorted inputs (normal, all-zero and discard records, several codecs, small output
 * records so whole records get cut) merged through the command's own functions, in this thread
 * and with workers. A payload freed while a record still needs it would fail the merge or
 * change its bytes: the merged image must equal the inputs applied oldest first.
 */
import { emptyMergeFigures, openWdiffInputs, writeMergedWdiff } from "../../cmd/wdiff_merge.ts";
import type { CommandIo } from "../../cmd/command.ts";
import { CompressionType, type CompressionTypeCode } from "../../lib/codec/codec.ts";
import { PackPayloadRelease } from "../../lib/format/wdiff/buffer_release.ts";
import type { DiffRecord } from "../../lib/format/wdiff/diff_record.ts";
import { openWdiff, SortedWdiffWriter } from "../../lib/format/wdiff/mod.ts";
import { BufferedWriter, MemorySink } from "../../lib/io/stream.ts";
import { MemoryRandomAccess } from "../../lib/io/random_access.ts";
import { assert } from "../../lib/testing/assert.ts";
import { type Prng, seededPrng } from "../../lib/testing/random.ts";

const IMAGE_LB = 4096;

function randomRecords(prng: Prng): DiffRecord[] {
  const records: DiffRecord[] = [];
  for (let at = prng.int(64); at < IMAGE_LB;) {
    const ioBlocks = Math.min(prng.range(1, prng.chance(0.2) ? 300 : 24), IMAGE_LB - at);
    const roll = prng.int(10);
    if (roll === 0) records.push({ ioAddress: at, ioBlocks, kind: "discard", data: null });
    else if (roll === 1) records.push({ ioAddress: at, ioBlocks, kind: "allZero", data: null });
    else {
      const data = new Uint8Array(ioBlocks * 512);
      // Some compressible, some not.
      if (prng.chance(0.5)) data.set(prng.bytes(data.length));
      else data.fill(prng.range(1, 255));
      records.push({ ioAddress: at, ioBlocks, kind: "normal", data });
    }
    at += ioBlocks + (prng.chance(0.5) ? 0 : prng.int(200));
  }
  return records;
}

function applyTo(image: Uint8Array, record: DiffRecord): void {
  const start = record.ioAddress * 512;
  const end = start + record.ioBlocks * 512;
  if (record.kind === "normal") image.set(record.data!, start);
  else image.fill(0, start, end);
}

Deno.test("review: wdiff-merge with early frees gives the inputs' image", async () => {
  const prng = seededPrng("review merge release");
  const dir = await Deno.makeTempDir();
  try {
    for (let round = 0; round < 8; round++) {
      const expected = new Uint8Array(IMAGE_LB * 512);
      const paths: string[] = [];
      const inputCount = prng.range(2, 4);
      for (let i = 0; i < inputCount; i++) {
        const records = randomRecords(prng);
        for (const record of records) applyTo(expected, record);
        const type = prng.pick([
          CompressionType.snappy,
          CompressionType.none,
          CompressionType.zstd,
        ] as CompressionTypeCode[]);
        const sink = new MemorySink();
        const writer = new SortedWdiffWriter(new BufferedWriter(sink), {
          compression: { type, level: 0 },
        });
        for (const record of records) await writer.add(record);
        await writer.close();
        const path = `${dir}/in${i}.wdiff`;
        await Deno.writeFile(path, sink.bytes());
        paths.push(path);
      }
      const release = new PackPayloadRelease();
      const figures = emptyMergeFigures();
      const io = {} as CommandIo; // no "-" input: stdin is never used
      const inputs = await openWdiffInputs(paths, io, figures.input, undefined, release);
      const output = new MemorySink();
      const type = prng.pick([
        CompressionType.snappy,
        CompressionType.none,
        CompressionType.lz4,
      ] as CompressionTypeCode[]);
      const numCpu = prng.pick([1, 2]);
      try {
        await writeMergedWdiff(inputs.streams, output, {
          maxBlocks: prng.pick([8, 64, 2048]),
          compression: { type, level: 0, numCpu },
          figures,
          release,
        });
      } finally {
        inputs.close();
      }
      assert(release.size === 0, "every input payload was freed early");
      const merged = await openWdiff(new MemoryRandomAccess(output.bytes()));
      const image = new Uint8Array(IMAGE_LB * 512);
      for await (const record of merged.reader.records()) applyTo(image, record);
      merged.close();
      let differs = -1;
      for (let i = 0; i < image.length && differs < 0; i++) {
        if (image[i] !== expected[i]) differs = i;
      }
      assert(differs < 0, `round ${round} (codec ${type}, cpus ${numCpu}): differs at ${differs}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
