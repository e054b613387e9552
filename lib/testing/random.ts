/**
 * Seeded pseudo-random numbers for tests and the simulator. Every run prints its seed;
 * `SEED=n` replays it. Never use Math.random in tests.
 *
 * @module
 */

/** A small, fast, seeded generator (mulberry32) with helpers. */
export class Prng {
  #state: number;

  /** @param seed any 32-bit integer */
  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform u32. */
  u32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, bound) (bound ≤ 2^32). */
  int(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  /** Uniform integer in [min, max] inclusive. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** `length` random bytes. */
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    const words = length >>> 2;
    const view = new DataView(out.buffer);
    for (let i = 0; i < words; i++) view.setUint32(i * 4, this.u32(), true);
    for (let i = words * 4; i < length; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/**
 * The seed of this run, not printed (for callers that print it themselves): `SEED` from the
 * environment, else a random u32.
 *
 * @returns the seed
 */
export function randomSeed(): number {
  const fromEnv = Deno.env.get("SEED");
  return fromEnv !== undefined
    ? Number(fromEnv) >>> 0
    : crypto.getRandomValues(new Uint32Array(1))[0]!;
}

/**
 * A generator seeded from `SEED` (or a random seed), printing `name: seed=N` so a failing
 * run can be replayed with `SEED=N`.
 *
 * @example
 * ```ts
 * import { Prng } from "./random.ts";
 * // In a test: const prng = seededPrng("my test");
 * const prng = new Prng(42);
 * const value = prng.int(10);
 * if (value < 0 || value >= 10) throw new Error("out of range");
 * ```
 */
export function seededPrng(name: string): Prng {
  const seed = randomSeed();
  // deno-lint-ignore no-console
  console.log(`${name}: seed=${seed} (replay with SEED=${seed})`);
  return new Prng(seed);
}
