/**
 * The 32-bit Mersenne Twister (std::mt19937) and the 64-bit draw that libstdc++'s
 * `uniform_int_distribution<uint64_t>` makes from it over the full range (two 32-bit
 * outputs, the first one high). wlog-gen uses it so that a seed reproduces the original
 * generator's output.
 *
 * @module
 */

const N = 624;
const M = 397;

/**
 * std::mt19937 seeded with a u32.
 *
 * @example
 * ```ts
 * import { Mt19937 } from "./mt19937.ts";
 * const r = new Mt19937(5489);
 * if (r.next32() !== 3499211612) throw new Error("wrong");
 * ```
 */
export class Mt19937 {
  readonly #state = new Uint32Array(N);
  #index = N;

  constructor(seed: number) {
    const s = this.#state;
    s[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = s[i - 1]! ^ (s[i - 1]! >>> 30);
      // 1812433253 * prev + i, mod 2^32, without losing precision.
      s[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  #twist(): void {
    const s = this.#state;
    for (let i = 0; i < N; i++) {
      const y = (s[i]! & 0x80000000) | (s[(i + 1) % N]! & 0x7fffffff);
      let v = s[(i + M) % N]! ^ (y >>> 1);
      if (y & 1) v ^= 0x9908b0df;
      s[i] = v >>> 0;
    }
    this.#index = 0;
  }

  /** Next 32-bit output. */
  next32(): number {
    if (this.#index >= N) this.#twist();
    let y = this.#state[this.#index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A uniform u64 as libstdc++ draws it from a 32-bit engine: (first << 32) | second. */
  next64(): bigint {
    const high = this.next32();
    const low = this.next32();
    return (BigInt(high) << 32n) | BigInt(low);
  }

  /** The low 32 bits of one 64-bit draw. */
  nextU32(): number {
    this.next32();
    return this.next32();
  }
}
