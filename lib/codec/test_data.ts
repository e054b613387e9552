/**
 * Seeded test and benchmark data for the codecs (tests and benches only).
 *
 * @module
 */
import { Prng } from "../testing/random.ts";

/** The seed for this run: `SEED=n` replays a failure; otherwise a fixed default. */
export function testSeed(): number {
  const text = Deno.env.get("SEED");
  return text === undefined ? 0x5eed : Number(text) >>> 0;
}

/** Uniform u32 values from {@link Prng} seeded with `seed`, as a plain function. */
export function makePrng(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.u32();
}

/** `size` random bytes: incompressible. */
export function randomBytes(next: () => number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let index = 0; index < size; index += 4) {
    const value = next();
    for (let k = 0; k < 4 && index + k < size; k++) bytes[index + k] = value >>> (8 * k);
  }
  return bytes;
}

/** Like base-2M.img: each 512-byte sector is one random 32-byte pattern repeated (period 32). */
export function periodicBytes(next: () => number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let sector = 0; sector < size; sector += 512) {
    const pattern = randomBytes(next, 32);
    for (let index = sector; index < Math.min(size, sector + 512); index++) {
      bytes[index] = pattern[index & 31]!;
    }
  }
  return bytes;
}

/** Partly compressible: runs of random literals and copies of earlier bytes at varied distances. */
export function mixedBytes(next: () => number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let index = 0;
  while (index < size) {
    const runLength = 1 + (next() % 64);
    const end = Math.min(size, index + runLength);
    if (index > 0 && next() % 3 !== 0) {
      const distance = 1 + (next() % Math.min(index, 70000));
      for (; index < end; index++) bytes[index] = bytes[index - distance]!;
    } else {
      for (; index < end; index++) bytes[index] = next() % 16;
    }
  }
  return bytes;
}
