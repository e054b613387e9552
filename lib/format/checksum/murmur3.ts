/**
 * MurmurHash3_x64_128 (Austin Appleby's public-domain reference algorithm, unmodified) and the
 * seed-incrementing stream hasher of walb-tools (wdiff-and-archive.md §17.1, device-and-wlog.md
 * §1.2). Used by hash backup/replication and block hashes over whole volumes, so it avoids
 * BigInt: every 64-bit lane is kept as two u32 halves and multiplied in 16-bit pieces.
 *
 * @module
 */

// 64-bit constants as [hi, lo] halves; the low halves also split into 16-bit pieces.
const C1_HI = 0x87c37b91;
const C1_LO = 0x114253d5;
const C1_LO_16 = C1_LO >>> 16;
const C1_LO_00 = C1_LO & 0xffff;
const C2_HI = 0x4cf5ad43;
const C2_LO = 0x2745937f;
const C2_LO_16 = C2_LO >>> 16;
const C2_LO_00 = C2_LO & 0xffff;
const FMIX1_HI = 0xff51afd7;
const FMIX1_LO = 0xed558ccd;
const FMIX2_HI = 0xc4ceb9fe;
const FMIX2_LO = 0x1a85ec53;

/** Bytes copied at a time when the input view is not 4-byte aligned. */
const UNALIGNED_CHUNK_SIZE = 64 * 1024;

/**
 * Runs the block loop over `blockCount` 16-byte blocks of `words` (little-endian u32 words:
 * k1 lo, k1 hi, k2 lo, k2 hi). `state` holds h1Hi, h1Lo, h2Hi, h2Lo in and out.
 *
 * Hot path: every 64-bit operation is written out on u32 halves in local variables (a helper
 * function returning two halves measured 5x slower).
 */
function hashBlocks(words: Uint32Array, blockCount: number, state: Uint32Array): void {
  let h1Hi = state[0]!;
  let h1Lo = state[1]!;
  let h2Hi = state[2]!;
  let h2Lo = state[3]!;
  let tHi = 0;
  let tLo = 0;
  let sum = 0;
  for (let i = 0; i < blockCount; i++) {
    const w = i * 4;
    let k1Lo = words[w]!;
    let k1Hi = words[w + 1]!;
    let k2Lo = words[w + 2]!;
    let k2Hi = words[w + 3]!;
    {
      const a16 = k1Lo >>> 16;
      const a00 = k1Lo & 0xffff;
      const c00 = a00 * C1_LO_00;
      const m1 = a16 * C1_LO_00;
      const m2 = a00 * C1_LO_16;
      const ml = (c00 >>> 16) + (m1 & 0xffff) + (m2 & 0xffff);
      tLo = ((c00 & 0xffff) | (ml << 16)) >>> 0;
      tHi = (a16 * C1_LO_16 + (m1 >>> 16) + (m2 >>> 16) + (ml >>> 16) + Math.imul(k1Hi, C1_LO) +
        Math.imul(k1Lo, C1_HI)) >>> 0;
    }
    // rotl 31
    k1Hi = ((tHi << 31) | (tLo >>> 1)) >>> 0;
    k1Lo = ((tLo << 31) | (tHi >>> 1)) >>> 0;
    {
      const a16 = k1Lo >>> 16;
      const a00 = k1Lo & 0xffff;
      const c00 = a00 * C2_LO_00;
      const m1 = a16 * C2_LO_00;
      const m2 = a00 * C2_LO_16;
      const ml = (c00 >>> 16) + (m1 & 0xffff) + (m2 & 0xffff);
      tLo = ((c00 & 0xffff) | (ml << 16)) >>> 0;
      tHi = (a16 * C2_LO_16 + (m1 >>> 16) + (m2 >>> 16) + (ml >>> 16) + Math.imul(k1Hi, C2_LO) +
        Math.imul(k1Lo, C2_HI)) >>> 0;
    }
    h1Hi = (h1Hi ^ tHi) >>> 0;
    h1Lo = (h1Lo ^ tLo) >>> 0;
    // h1 = rotl(h1, 27) + h2
    tHi = ((h1Hi << 27) | (h1Lo >>> 5)) >>> 0;
    tLo = ((h1Lo << 27) | (h1Hi >>> 5)) >>> 0;
    sum = tLo + h2Lo;
    tLo = sum >>> 0;
    tHi = (tHi + h2Hi + (sum > 0xffffffff ? 1 : 0)) >>> 0;
    // h1 = h1 * 5 + 0x52dce729 (h1 * 5 = (h1 << 2) + h1)
    sum = ((tLo << 2) >>> 0) + tLo;
    h1Hi = (((tHi << 2) | (tLo >>> 30)) + tHi + Math.floor(sum / 4294967296)) >>> 0;
    sum = (sum >>> 0) + 0x52dce729;
    h1Lo = sum >>> 0;
    h1Hi = (h1Hi + (sum > 0xffffffff ? 1 : 0)) >>> 0;
    {
      const a16 = k2Lo >>> 16;
      const a00 = k2Lo & 0xffff;
      const c00 = a00 * C2_LO_00;
      const m1 = a16 * C2_LO_00;
      const m2 = a00 * C2_LO_16;
      const ml = (c00 >>> 16) + (m1 & 0xffff) + (m2 & 0xffff);
      tLo = ((c00 & 0xffff) | (ml << 16)) >>> 0;
      tHi = (a16 * C2_LO_16 + (m1 >>> 16) + (m2 >>> 16) + (ml >>> 16) + Math.imul(k2Hi, C2_LO) +
        Math.imul(k2Lo, C2_HI)) >>> 0;
    }
    // rotl 33 = swap the halves, then rotl 1
    k2Hi = ((tLo << 1) | (tHi >>> 31)) >>> 0;
    k2Lo = ((tHi << 1) | (tLo >>> 31)) >>> 0;
    {
      const a16 = k2Lo >>> 16;
      const a00 = k2Lo & 0xffff;
      const c00 = a00 * C1_LO_00;
      const m1 = a16 * C1_LO_00;
      const m2 = a00 * C1_LO_16;
      const ml = (c00 >>> 16) + (m1 & 0xffff) + (m2 & 0xffff);
      tLo = ((c00 & 0xffff) | (ml << 16)) >>> 0;
      tHi = (a16 * C1_LO_16 + (m1 >>> 16) + (m2 >>> 16) + (ml >>> 16) + Math.imul(k2Hi, C1_LO) +
        Math.imul(k2Lo, C1_HI)) >>> 0;
    }
    h2Hi = (h2Hi ^ tHi) >>> 0;
    h2Lo = (h2Lo ^ tLo) >>> 0;
    // h2 = rotl(h2, 31) + h1
    tHi = ((h2Hi << 31) | (h2Lo >>> 1)) >>> 0;
    tLo = ((h2Lo << 31) | (h2Hi >>> 1)) >>> 0;
    sum = tLo + h1Lo;
    tLo = sum >>> 0;
    tHi = (tHi + h1Hi + (sum > 0xffffffff ? 1 : 0)) >>> 0;
    // h2 = h2 * 5 + 0x38495ab5
    sum = ((tLo << 2) >>> 0) + tLo;
    h2Hi = (((tHi << 2) | (tLo >>> 30)) + tHi + Math.floor(sum / 4294967296)) >>> 0;
    sum = (sum >>> 0) + 0x38495ab5;
    h2Lo = sum >>> 0;
    h2Hi = (h2Hi + (sum > 0xffffffff ? 1 : 0)) >>> 0;
  }
  state[0] = h1Hi;
  state[1] = h1Lo;
  state[2] = h2Hi;
  state[3] = h2Lo;
}

// Result registers of the slow-path 64-bit helpers (tail and finalization only).
let rHi = 0;
let rLo = 0;

/** (xHi:xLo) * (cHi:cLo) mod 2^64 into rHi:rLo. */
function mul64(xHi: number, xLo: number, cHi: number, cLo: number): void {
  const a16 = xLo >>> 16;
  const a00 = xLo & 0xffff;
  const b16 = cLo >>> 16;
  const b00 = cLo & 0xffff;
  const c00 = a00 * b00;
  const mid1 = a16 * b00;
  const mid2 = a00 * b16;
  // Sum of the middle terms' low halves plus the carry from c00 (all below 2^18).
  const midLow = (c00 >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff);
  rLo = ((c00 & 0xffff) | (midLow << 16)) >>> 0;
  const carry = a16 * b16 + (mid1 >>> 16) + (mid2 >>> 16) + (midLow >>> 16);
  rHi = (carry + Math.imul(xHi, cLo) + Math.imul(xLo, cHi)) >>> 0;
}

/** fmix64 of (hi:lo) into rHi:rLo. */
function fmix64(hi: number, lo: number): void {
  // k ^= k >> 33
  lo = (lo ^ (hi >>> 1)) >>> 0;
  mul64(hi, lo, FMIX1_HI, FMIX1_LO);
  hi = rHi;
  lo = (rLo ^ (rHi >>> 1)) >>> 0;
  mul64(hi, lo, FMIX2_HI, FMIX2_LO);
  rLo = (rLo ^ (rHi >>> 1)) >>> 0;
}

/** (aHi:aLo) + (bHi:bLo) mod 2^64 into rHi:rLo. */
function add64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  const lo = aLo + bLo;
  rLo = lo >>> 0;
  rHi = (aHi + bHi + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

/**
 * MurmurHash3_x64_128 of `bytes` with a 32-bit `seed`.
 *
 * @param bytes data to hash
 * @param seed u32 seed, the initial value of both lanes
 * @returns 16 bytes: lane h1 (u64 LE) then lane h2 (u64 LE), as `mmh3.hash_bytes`
 * @example
 * ```ts
 * import { murmurHash3x64128, murmurHex } from "./murmur3.ts";
 * const digest = murmurHash3x64128(new TextEncoder().encode("foo"), 0);
 * if (murmurHex(digest) !== "6145f501578671e2877dba2be487af7e") throw new Error("wrong");
 * ```
 */
export function murmurHash3x64128(bytes: Uint8Array, seed: number): Uint8Array {
  const out = new Uint8Array(16);
  murmurHash3Into(bytes, seed, out);
  return out;
}

/** Like {@link murmurHash3x64128}, writing the 16-byte digest into `out`. */
export function murmurHash3Into(bytes: Uint8Array, seed: number, out: Uint8Array): void {
  const length = bytes.length;
  const blockCount = Math.floor(length / 16);
  const state = Uint32Array.of(0, seed >>> 0, 0, seed >>> 0);
  if ((bytes.byteOffset & 3) === 0) {
    hashBlocks(new Uint32Array(bytes.buffer, bytes.byteOffset, blockCount * 4), blockCount, state);
  } else {
    const scratch = new Uint8Array(Math.min(UNALIGNED_CHUNK_SIZE, blockCount * 16));
    const scratchWords = new Uint32Array(scratch.buffer);
    for (let done = 0; done < blockCount;) {
      const count = Math.min(blockCount - done, UNALIGNED_CHUNK_SIZE / 16);
      scratch.set(bytes.subarray(done * 16, (done + count) * 16));
      hashBlocks(scratchWords, count, state);
      done += count;
    }
  }
  let h1Hi = state[0]!;
  let h1Lo = state[1]!;
  let h2Hi = state[2]!;
  let h2Lo = state[3]!;

  // Tail: bytes 0..7 form k1, bytes 8..14 form k2 (little-endian).
  const tail = blockCount * 16;
  const tailSize = length - tail;
  if (tailSize > 0) {
    let k1Lo = 0, k1Hi = 0, k2Lo = 0, k2Hi = 0;
    for (let j = tailSize - 1; j >= 0; j--) {
      const byte = bytes[tail + j]!;
      if (j >= 12) k2Hi |= byte << (8 * (j - 12));
      else if (j >= 8) k2Lo |= byte << (8 * (j - 8));
      else if (j >= 4) k1Hi |= byte << (8 * (j - 4));
      else k1Lo |= byte << (8 * j);
    }
    if (tailSize > 8) {
      mul64(k2Hi >>> 0, k2Lo >>> 0, C2_HI, C2_LO);
      k2Hi = ((rLo << 1) | (rHi >>> 31)) >>> 0;
      k2Lo = ((rHi << 1) | (rLo >>> 31)) >>> 0;
      mul64(k2Hi, k2Lo, C1_HI, C1_LO);
      h2Hi = (h2Hi ^ rHi) >>> 0;
      h2Lo = (h2Lo ^ rLo) >>> 0;
    }
    mul64(k1Hi >>> 0, k1Lo >>> 0, C1_HI, C1_LO);
    k1Hi = ((rHi << 31) | (rLo >>> 1)) >>> 0;
    k1Lo = ((rLo << 31) | (rHi >>> 1)) >>> 0;
    mul64(k1Hi, k1Lo, C2_HI, C2_LO);
    h1Hi = (h1Hi ^ rHi) >>> 0;
    h1Lo = (h1Lo ^ rLo) >>> 0;
  }

  // Finalization: xor the length into both lanes, cross-add, fmix64, cross-add.
  const lengthHi = Math.floor(length / 4294967296) >>> 0;
  const lengthLo = length >>> 0;
  h1Hi = (h1Hi ^ lengthHi) >>> 0;
  h1Lo = (h1Lo ^ lengthLo) >>> 0;
  h2Hi = (h2Hi ^ lengthHi) >>> 0;
  h2Lo = (h2Lo ^ lengthLo) >>> 0;
  add64(h1Hi, h1Lo, h2Hi, h2Lo);
  h1Hi = rHi;
  h1Lo = rLo;
  add64(h2Hi, h2Lo, h1Hi, h1Lo);
  h2Hi = rHi;
  h2Lo = rLo;
  fmix64(h1Hi, h1Lo);
  h1Hi = rHi;
  h1Lo = rLo;
  fmix64(h2Hi, h2Lo);
  h2Hi = rHi;
  h2Lo = rLo;
  add64(h1Hi, h1Lo, h2Hi, h2Lo);
  h1Hi = rHi;
  h1Lo = rLo;
  add64(h2Hi, h2Lo, h1Hi, h1Lo);
  h2Hi = rHi;
  h2Lo = rLo;

  const digest = new DataView(out.buffer, out.byteOffset, 16);
  digest.setUint32(0, h1Lo, true);
  digest.setUint32(4, h1Hi, true);
  digest.setUint32(8, h2Lo, true);
  digest.setUint32(12, h2Hi, true);
}

/** The digest as 32 lowercase hex digits, in byte order (how walb-tools prints a Hash). */
export function murmurHex(digest: Uint8Array): string {
  let text = "";
  for (const byte of digest) text += byte.toString(16).padStart(2, "0");
  return text;
}

/**
 * The stream hasher of walb-tools: XOR of MurmurHash3_x64_128 of each pushed buffer, the
 * seed starting at `seed0` and incremented (mod 2^32) after every buffer.
 *
 * @example
 * ```ts
 * import { MurmurStreamHasher, murmurHex } from "./murmur3.ts";
 * const hasher = new MurmurStreamHasher(0);
 * hasher.push(new Uint8Array(512));
 * hasher.push(new Uint8Array(512));
 * if (murmurHex(hasher.digest()) !== "06064de4ca9e6bb26383503e26daa2c3") throw new Error("wrong");
 * ```
 */
export class MurmurStreamHasher {
  #seed: number;
  readonly #accumulator = new Uint8Array(16);
  readonly #scratch = new Uint8Array(16);

  /**
   * Starts an empty hash (digest all zeros) whose first buffer is hashed with `seed0`.
   * walb-tools seeds with 0 for image hashes; the protocol's hash sync passes its own seed.
   *
   * @param seed0 seed of the first buffer, taken mod 2^32
   * @example
   * ```ts
   * import { MurmurStreamHasher } from "./murmur3.ts";
   * if (new MurmurStreamHasher(2 ** 32 + 5).seed !== 5) throw new Error("wrong");
   * ```
   */
  constructor(seed0: number) {
    this.#seed = seed0 >>> 0;
  }

  /** The seed the next pushed buffer is hashed with. */
  get seed(): number {
    return this.#seed;
  }

  /** Hashes one buffer into the accumulator and increments the seed. */
  push(bytes: Uint8Array): void {
    murmurHash3Into(bytes, this.#seed, this.#scratch);
    for (let i = 0; i < 16; i++) this.#accumulator[i]! ^= this.#scratch[i]!;
    this.#seed = (this.#seed + 1) >>> 0;
  }

  /** The accumulated 16 bytes (a copy). */
  digest(): Uint8Array {
    return this.#accumulator.slice();
  }
}
