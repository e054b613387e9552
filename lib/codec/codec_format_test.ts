import { CorruptDataError } from "../errors.ts";
import { assert, assertEquals, assertThrows, toHex } from "../testing/assert.ts";
import { CompressionType, getCodec } from "./mod.ts";
import { lz4CompressBlock, lz4DecompressBlock } from "./lz4.ts";
import { checkXzContainer, lzma2DictSize } from "./xz_container.ts";
import { makePrng, periodicBytes, testSeed } from "./test_data.ts";

Deno.test("zstd compress() writes one frame with magic 28 B5 2F FD and the content size", () => {
  const input = new Uint8Array(4096).fill(9);
  const frame = getCodec(CompressionType.zstd).compress(input, 0);
  assertEquals(toHex(frame.subarray(0, 4)), "28b52ffd");
  assertEquals(frame[4]! & 0xc0, 0x40); // 2-byte frame content size, as the original writes
  assertEquals(frame[4]! & 0x20, 0x20); // single segment
});

/**
 * Offset of the first filter flags in the first block header: after the size and flags bytes
 * and the optional compressed/uncompressed size fields (liblzma writes both, the package none).
 */
function xzFilterOffset(data: Uint8Array): number {
  const flags = data[12 + 1]!;
  let at = 12 + 2;
  const skipVli = () => {
    while ((data[at++]! & 0x80) !== 0);
  };
  if ((flags & 0x40) !== 0) skipVli();
  if ((flags & 0x80) !== 0) skipVli();
  return at;
}

Deno.test("lzma compress() writes an .xz stream with a CRC64 check and an 8 MiB dictionary", () => {
  const data = getCodec(CompressionType.lzma).compress(new Uint8Array(4096).fill(1), 9);
  assertEquals(toHex(data.subarray(0, 8)), "fd377a585a000004");
  assertEquals(toHex(data.subarray(data.length - 2)), "595a");
  // Block header: size, flags, LZMA2 filter id 0x21, 1 property byte, dictionary property.
  const filter = xzFilterOffset(data);
  assertEquals(toHex(data.subarray(filter, filter + 3)), "210116");
  assertEquals(lzma2DictSize(0x16), 8 * 1024 * 1024);
});

Deno.test("checkXzContainer() rejects a dictionary over the limit and a wrong promised size", () => {
  const data = getCodec(CompressionType.lzma).compress(new Uint8Array(4096).fill(1), 0);
  checkXzContainer(data, 4096);
  assertThrows(() => checkXzContainer(data, 4095), CorruptDataError, "xz index promises");
  const huge = data.slice();
  huge[xzFilterOffset(data) + 2] = 40; // 4 GiB dictionary
  assertThrows(() => checkXzContainer(huge, 4096), CorruptDataError, "dictionary");
});

Deno.test("lz4DecompressBlock() decodes a hand-made block with an overlapping match", () => {
  // token 0x1F: 1 literal 'a', match length 15 + 4 + extra 1 = 20 at offset 1; then 5 literals.
  const block = Uint8Array.of(0x1f, 0x61, 0x01, 0x00, 0x01, 0x50, 0x62, 0x63, 0x64, 0x65, 0x66);
  const output = lz4DecompressBlock(block, 26);
  assertEquals(new TextDecoder().decode(output), "a".repeat(21) + "bcdef");
  assertThrows(() => lz4DecompressBlock(block, 27), CorruptDataError);
  assertThrows(
    () => lz4DecompressBlock(Uint8Array.of(0x10, 0x61, 0x02, 0x00), 10),
    CorruptDataError,
  );
});

Deno.test("lz4CompressBlock() shrinks periodic data and keeps the last 5 bytes literal", () => {
  const input = periodicBytes(makePrng(testSeed()), 65536);
  const block = lz4CompressBlock(input);
  assert(block.length < input.length / 8, `lz4 block is ${block.length} bytes`);
  assertEquals(toHex(block.subarray(block.length - 5)), toHex(input.subarray(65536 - 5)));
  assertEquals(toHex(lz4CompressBlock(new Uint8Array(0))), "00");
  assertEquals(lz4DecompressBlock(Uint8Array.of(0), 0).length, 0);
});
