/**
 * Codec throughput: compress and decompress 64 KiB and 1 MiB of random and of periodic data
 * (base-2M.img style: a 32-byte pattern per 512-byte sector), one bench per codec and direction.
 * Run: `deno bench --allow-all lib/codec/codec_bench.ts`; MB/s = size / time per iteration.
 */
import { COMPRESSION_NAMES, type CompressionTypeCode, getCodec } from "./mod.ts";
import { makePrng, periodicBytes, randomBytes } from "./test_data.ts";

const SIZES = [64 * 1024, 1024 * 1024];
const next = makePrng(0xbe4c);
const DATA = {
  random: SIZES.map((size) => randomBytes(next, size)),
  periodic: SIZES.map((size) => periodicBytes(next, size)),
};

for (const type of [0, 1, 2, 3, 4, 5] as CompressionTypeCode[]) {
  const codec = getCodec(type);
  const name = COMPRESSION_NAMES[type];
  // xz preset 6 is slow: fewer iterations keep the whole run short.
  const iterations = name === "lzma" ? { n: 8, warmup: 2 } : {};
  for (const [kind, buffers] of Object.entries(DATA)) {
    SIZES.forEach((size, index) => {
      const input = buffers[index]!;
      const compressed = codec.compress(input, 0);
      const label = `${name} ${kind} ${size / 1024}KiB`;
      Deno.bench({
        name: `${label} compress`,
        group: `compress ${kind} ${size / 1024}KiB`,
        ...iterations,
        fn: () => {
          codec.compress(input, 0);
        },
      });
      Deno.bench({
        name: `${label} decompress`,
        group: `decompress ${kind} ${size / 1024}KiB`,
        ...iterations,
        fn: () => {
          codec.decompress(compressed, size);
        },
      });
    });
  }
}
