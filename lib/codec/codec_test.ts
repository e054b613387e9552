import { CorruptDataError, UsageError } from "../errors.ts";
import { assert, assertEquals, assertThrows, toHex } from "../testing/assert.ts";
import { checksum } from "../format/checksum/checksum.ts";
import {
  compressIfSmaller,
  COMPRESSION_NAMES,
  CompressionType,
  type CompressionTypeCode,
  decompressExact,
  formatCompressOpt,
  getCodec,
  parseCompressionType,
  parseCompressOpt,
} from "./mod.ts";
import { makePrng, mixedBytes, periodicBytes, randomBytes, testSeed } from "./test_data.ts";

/** Every codec. */
export const IMPLEMENTED: CompressionTypeCode[] = [0, 1, 2, 3, 4, 5];

const SIZES = [0, 1, 2, 3, 15, 16, 17, 511, 512, 513, 4096, 65535, 65536, 65537, 262144, 1048576];

Deno.test("getCodec() round-trips random, periodic and mixed data of sizes 0..1 MiB", () => {
  const seed = testSeed();
  // deno-lint-ignore no-console -- tests print the seed and the byte-identity counts
  console.log(`seed=${seed}`);
  const next = makePrng(seed);
  for (const type of IMPLEMENTED) {
    const codec = getCodec(type);
    assertEquals(codec.type, type);
    assertEquals(codec.name, COMPRESSION_NAMES[type]);
    for (const size of SIZES) {
      for (const make of [randomBytes, periodicBytes, mixedBytes]) {
        const input = make(next, size);
        for (const level of [0, 1, 9]) {
          if (level !== 0 && size > 65536) continue;
          const compressed = codec.compress(input, level);
          const output = codec.decompress(compressed, size);
          assert(
            output.length === size && toHex(output) === toHex(input),
            `${codec.name} level ${level} ${make.name} size ${size} seed ${seed}`,
          );
        }
      }
    }
  }
});

Deno.test("snappy compress() matches the spec vector for 512 x 'A'", () => {
  const data = getCodec(CompressionType.snappy).compress(new Uint8Array(512).fill(0x41), 0);
  assertEquals(
    toHex(data),
    "80040041fe0100fe0100fe0100fe0100fe0100fe0100fe0100fa0100",
  );
  assertEquals(checksum(data, 0), 0xbeffff82);
});

Deno.test("gzip compress() writes a zlib stream with header 78 9C at default level", () => {
  const input = new Uint8Array(4096).fill(7);
  assertEquals(toHex(getCodec(CompressionType.gzip).compress(input, 0).subarray(0, 2)), "789c");
  assertEquals(toHex(getCodec(CompressionType.gzip).compress(input, 6).subarray(0, 2)), "789c");
  assertEquals(toHex(getCodec(CompressionType.gzip).compress(input, 9).subarray(0, 2)), "78da");
});

Deno.test("compressIfSmaller() keeps compressed bytes only when strictly smaller", () => {
  const next = makePrng(testSeed());
  const random = randomBytes(next, 4096);
  for (const type of IMPLEMENTED) {
    const stored = compressIfSmaller(type, random, 0);
    assertEquals(stored.type, CompressionType.none);
    assert(stored.data === random);
    const periodic = periodicBytes(next, 4096);
    const small = compressIfSmaller(type, periodic, 0);
    assertEquals(small.type, type);
    assert(type === CompressionType.none || small.data.length < periodic.length);
    assertEquals(toHex(decompressExact(small.type, small.data, 4096)), toHex(periodic));
  }
  assertEquals(compressIfSmaller(CompressionType.snappy, new Uint8Array(0), 0).type, 0);
});

Deno.test("decompressExact() rejects a wrong output size with CorruptDataError", () => {
  const input = new Uint8Array(1024).fill(3);
  for (const type of IMPLEMENTED) {
    const data = getCodec(type).compress(input, 0);
    for (const size of [0, 1023, 1025, 4096]) {
      const error = assertThrows(
        () => decompressExact(type, data, size, 4242),
        CorruptDataError,
      );
      assertEquals(error.what, "compressed record");
      assertEquals(error.offset, 4242);
    }
  }
});

Deno.test("decompressExact() gives CorruptDataError for bit flips and truncation", () => {
  const seed = testSeed();
  const next = makePrng(seed ^ 0x1234);
  for (const type of IMPLEMENTED) {
    if (type === CompressionType.none) continue;
    for (const make of [periodicBytes, mixedBytes]) {
      const input = make(next, 8192);
      const data = getCodec(type).compress(input, 0);
      for (let cut = 0; cut < data.length; cut += 1 + (next() % 7)) {
        assertThrows(() => decompressExact(type, data.subarray(0, cut), 8192), CorruptDataError);
      }
      for (let trial = 0; trial < 300; trial++) {
        const broken = data.slice();
        const bit = next() % (broken.length * 8);
        broken[bit >> 3]! ^= 1 << (bit & 7);
        try {
          const output = decompressExact(type, broken, 8192);
          assertEquals(output.length, 8192); // a flip in a literal may still decode
        } catch (error) {
          if (!(error instanceof CorruptDataError)) {
            throw new Error(`${COMPRESSION_NAMES[type]} seed ${seed}: ${String(error)}`, {
              cause: error,
            });
          }
        }
      }
    }
  }
});

Deno.test("parseCompressionType() maps the six names and rejects others", () => {
  COMPRESSION_NAMES.forEach((name, code) => assertEquals(parseCompressionType(name), code));
  assertThrows(() => parseCompressionType("xz"), UsageError, "wrong type:xz");
  assertThrows(() => parseCompressionType("Snappy"), UsageError, "wrong type:Snappy");
});

Deno.test("parseCompressOpt() parses type:level:numCpu and verifies ranges", () => {
  assertEquals(parseCompressOpt("snappy:0:1"), { type: 2, level: 0, numCpu: 1 });
  assertEquals(parseCompressOpt("lzma:9:255"), { type: 3, level: 9, numCpu: 255 });
  assertEquals(formatCompressOpt(parseCompressOpt("zstd:3:4")), "zstd:3:4");
  assertThrows(() => parseCompressOpt("snappy:0"), UsageError, "parse error:snappy:0");
  assertThrows(() => parseCompressOpt("snappy:0:1:2"), UsageError, "parse error:snappy:0:1:2");
  assertThrows(() => parseCompressOpt("foo:0:1"), UsageError, "wrong type:foo");
  const verify = (text: string) => {
    const error = assertThrows(() => parseCompressOpt(text), UsageError);
    assert(error.message.startsWith("CompressOpt::verify:"), error.message);
  };
  for (const text of ["gzip:10:1", "gzip:0:0", "gzip:0:256", "gzip:x:1", "gzip:-1:1", "gzip:1:"]) {
    verify(text);
  }
});
