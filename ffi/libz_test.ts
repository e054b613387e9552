import { assertEquals, assertThrows } from "../lib/testing/assert.ts";
import { assertCompressSmallerAgrees, codecSamples } from "./codec_testing.ts";
import { nodeGzipCodec } from "../lib/codec/gzip.ts";
import { LibzError, loadLibz } from "./libz.ts";

const zlib = loadLibz();
const ignore = zlib === undefined;
const nodeCodec = nodeGzipCodec(await import("node:zlib"));

/** Random, periodic and mixed blocks of the sizes wdiffs and bulks use. */
function samples(): Uint8Array[] {
  return codecSamples("libz", [512, 4096, 65536, 262144]);
}

function decompress(stream: Uint8Array, size: number): Uint8Array {
  const output = new Uint8Array(size);
  zlib!.decompressInto(stream, output);
  return output;
}

Deno.test({
  name: "loadLibz() zlib streams round-trip through the system zlib and node:zlib",
  ignore,
  fn() {
    for (const data of samples()) {
      for (const level of [1, 6, 9]) {
        const stream = zlib!.compress(data, level);
        assertEquals(stream[0], 0x78); // zlib header: deflate, 32 KiB window
        assertEquals(decompress(stream, data.length), data);
        assertEquals(nodeCodec.decompress(stream, data.length), data);
        assertEquals(decompress(nodeCodec.compress(data, level), data.length), data);
      }
    }
  },
});

Deno.test({
  name: "loadLibz() compressSmaller gives compress's bytes when shorter, else undefined",
  ignore,
  fn() {
    assertCompressSmallerAgrees(
      samples(),
      (data) => zlib!.compress(data, 6),
      (data) => zlib!.compressSmaller(data, 6),
    );
  },
});

Deno.test({
  name: "loadLibz() decompressInto refuses wrong sizes and corrupt streams",
  ignore,
  fn() {
    const data = new Uint8Array(8192).map((_, i) => i % 251);
    const stream = zlib!.compress(data, 6);
    assertThrows(() => decompress(stream, 4096), LibzError);
    assertThrows(() => decompress(stream, 16384), RangeError);
    assertThrows(() => decompress(stream.subarray(0, stream.length >> 1), 8192), LibzError);
    assertThrows(() => decompress(Uint8Array.of(1, 2, 3, 4), 10), LibzError);
  },
});
