import { CompressionType } from "../codec/codec.ts";
import { seededPrng } from "../testing/random.ts";
import { assertEquals, toHex } from "../testing/assert.ts";
import { encodeReads } from "./bulk_compressor.ts";
import { encodeBulk, type EncodedBulk } from "./bulk_encode.ts";

async function* copies(reads: readonly Uint8Array[]) {
  for (const read of reads) yield read.slice();
}

function describe(bulk: EncodedBulk): string {
  return bulk.stored === null ? "zero" : `${bulk.checksum}:${toHex(bulk.stored)}`;
}

Deno.test("encodeReads() gives the in-thread bulks in order for any worker count (0: in thread)", async () => {
  const prng = seededPrng("encodeReads");
  const bulkBytes = 4096;
  const reads: Uint8Array[] = [];
  for (let i = 0; i < 9; i++) {
    const read = new Uint8Array(bulkBytes * 3 + (i === 8 ? 1024 : 0));
    const kind = i % 3;
    if (kind === 1) read.set(prng.bytes(read.length));
    if (kind === 2) { for (let j = 0; j < read.length; j++) read[j] = j % 32; }
    reads.push(read);
  }
  const compression = { type: CompressionType.snappy, level: 0 };
  const expected: string[] = [];
  for (const read of reads) {
    for (let offset = 0; offset < read.length; offset += bulkBytes) {
      const bulk = read.subarray(offset, Math.min(offset + bulkBytes, read.length));
      expected.push(describe(encodeBulk(bulk, compression)));
    }
  }
  for (const workerCount of [0, 1, 3]) {
    const actual: string[] = [];
    const encoded = encodeReads(copies(reads), {
      bulkBytes,
      compression,
      workerCount,
      inFlightMax: workerCount + 1,
    });
    for await (const bulks of encoded) for (const bulk of bulks) actual.push(describe(bulk));
    assertEquals(actual, expected);
  }
});
