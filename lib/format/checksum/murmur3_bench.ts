/**
 * Throughput of MurmurHash3_x64_128 over 1 MiB (the hash-sync and bhash hot path).
 * Expected cost: ~30 32-bit multiplies and ~60 logic ops per 16-byte block.
 * MB/s = 1.048576 / (time per iteration in ms) * 1000.
 *
 * @module
 */
import { murmurHash3x64128 } from "./murmur3.ts";

const input = new Uint8Array(1 << 20).map((_, i) => (i * 131 + 7) & 0xff);

Deno.bench("murmurHash3x64128() 1 MiB", () => {
  murmurHash3x64128(input, 0);
});

Deno.bench("murmurHash3x64128() 1 MiB, unaligned view", () => {
  murmurHash3x64128(input.subarray(1), 0);
});
