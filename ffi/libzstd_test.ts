import { assert, assertEquals, assertThrows, toHex } from "../lib/testing/assert.ts";
import { assertCompressSmallerAgrees, codecSamples } from "./codec_testing.ts";
import { nodeZstdCodec } from "../lib/codec/zstd.ts";
import { LibzstdError, loadLibzstd } from "./libzstd.ts";

const zstd = loadLibzstd();
const zstdNodeCodec = nodeZstdCodec(await import("node:zlib"));
const ignore = zstd === undefined;

/** Random, periodic and mixed blocks of the sizes wdiffs and bulks use. */
function samples(): Uint8Array[] {
  return codecSamples("libzstd", [512, 4096, 65536, 262144, 1 << 20]);
}

Deno.test({
  name: "loadLibzstd() frames round-trip through libzstd and node:zlib at every level",
  ignore,
  fn() {
    for (const data of samples()) {
      for (const level of [1, 3, 9]) {
        const frame = zstd!.compress(data, level);
        assertEquals(toHex(frame.subarray(0, 4)), "28b52ffd");
        assertEquals(zstd!.decompress(frame, data.length), data);
        assertEquals(zstdNodeCodec.decompress(frame, data.length), data);
        const nodeFrame = zstdNodeCodec.compress(data, level);
        assertEquals(zstd!.decompress(nodeFrame, data.length), data);
      }
    }
  },
});

Deno.test({
  name: "loadLibzstd() compressSmaller gives compress's bytes when shorter, else undefined",
  ignore,
  fn() {
    assertCompressSmallerAgrees(
      samples(),
      (data) => zstd!.compress(data, 1),
      (data) => zstd!.compressSmaller(data, 1),
    );
  },
});

Deno.test({
  name: "loadLibzstd() decompress refuses wrong sizes and corrupt frames",
  ignore,
  fn() {
    const data = new Uint8Array(8192).map((_, i) => i % 251);
    const frame = zstd!.compress(data, 1);
    assertThrows(() => zstd!.decompress(frame, 4096), LibzstdError);
    assertThrows(() => zstd!.decompress(frame, 16384), RangeError);
    assertThrows(() => zstd!.decompress(frame.subarray(0, frame.length >> 1), 8192), Error);
    const error = assertThrows(() => zstd!.decompress(Uint8Array.of(1, 2, 3, 4), 10), LibzstdError);
    assert(error.message.startsWith("ZSTD_decompressDCtx failed: "), error.message);
  },
});

Deno.test({
  name: "loadLibzstd() decompressInto fills the target exactly",
  ignore,
  fn() {
    const data = new Uint8Array(8192).map((_, i) => i % 251);
    const frame = zstd!.compress(data, 1);
    const target = new Uint8Array(8192).fill(0xee);
    zstd!.decompressInto(frame, target);
    assertEquals(target, data);
    assertThrows(() => zstd!.decompressInto(frame, new Uint8Array(9000)), RangeError);
  },
});
