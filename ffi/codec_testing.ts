/**
 * Shared test data and checks of the native codec bindings' tests (libsnappy, libz, libzstd).
 *
 * @module
 */
import { assertEquals, toHex } from "../lib/testing/assert.ts";
import { seededPrng } from "../lib/testing/random.ts";

/**
 * Empty, tiny and constant inputs, then per size: random, periodic, and periodic with a random
 * quarter (seeded by `name`).
 */
export function codecSamples(name: string, sizes: readonly number[]): Uint8Array[] {
  const prng = seededPrng(name);
  const out: Uint8Array[] = [new Uint8Array(0), new Uint8Array(1), new Uint8Array(512).fill(0x41)];
  for (const size of sizes) {
    out.push(prng.bytes(size));
    const periodic = new Uint8Array(size);
    for (let i = 0; i < size; i++) periodic[i] = (i % 32) * 7;
    out.push(periodic);
    const mixed = periodic.slice();
    mixed.set(prng.bytes(size >> 2), size >> 1);
    out.push(mixed);
  }
  return out;
}

/** compressSmaller gives compress's bytes when they are shorter than the input, else undefined. */
export function assertCompressSmallerAgrees(
  samples: readonly Uint8Array[],
  compress: (data: Uint8Array) => Uint8Array,
  compressSmaller: (data: Uint8Array) => Uint8Array | undefined,
): void {
  for (const data of samples) {
    const full = compress(data);
    const smaller = compressSmaller(data);
    if (full.length < data.length) assertEquals(toHex(smaller!), toHex(full));
    else assertEquals(smaller, undefined, `${data.length} bytes`);
  }
}
