/**
 * The WalB 32-bit checksum used by every WalB and walb-tools structure
 * (device-and-wlog.md §1.1, wdiff-and-archive.md §1).
 *
 * sum = salt + Σ little-endian u32 words (a 1..3-byte tail is zero-padded), result = -sum mod 2^32.
 * A self-verifying block checksums to 0 with its stored field included.
 *
 * @module
 */

/**
 * Adds the u32 words of `bytes` to a running sum (no negation). Chain calls for incremental
 * checksums; every chunk but the last must have a length that is a multiple of 4.
 *
 * @param bytes data to add
 * @param sum running sum (start with the salt)
 * @returns the new running sum, a u32
 */
export function checksumPartial(bytes: Uint8Array, sum: number): number {
  const length = bytes.length;
  const wordCount = length >>> 2;
  let s = sum >>> 0;
  if ((bytes.byteOffset & 3) === 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, wordCount);
    // Sum in float64 (exact below 2^53) and reduce rarely: much faster than >>> 0 per word.
    let acc = s;
    let i = 0;
    while (i < wordCount) {
      const end = Math.min(wordCount, i + 1048576);
      for (; i < end; i++) acc += words[i]!;
      acc %= 4294967296;
    }
    s = acc >>> 0;
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, length);
    let acc = s;
    for (let i = 0; i < wordCount; i++) {
      acc += view.getUint32(i * 4, true);
      if ((i & 0xfffff) === 0xfffff) acc %= 4294967296;
    }
    s = acc % 4294967296 >>> 0;
  }
  const tail = length & 3;
  if (tail !== 0) {
    let word = 0;
    for (let k = 0; k < tail; k++) word |= bytes[wordCount * 4 + k]! << (8 * k);
    s = (s + (word >>> 0)) >>> 0;
  }
  return s;
}

/** Finishes a running sum into the checksum value (two's-complement negation). */
export function checksumFinish(sum: number): number {
  return (-sum) >>> 0;
}

/**
 * WalB checksum of `bytes` with `salt`.
 *
 * @example
 * ```ts
 * import { checksum } from "./checksum.ts";
 * const bytes = new Uint8Array(16).map((_, i) => i);
 * if (checksum(bytes, 0) !== 0xdbdfe3e8) throw new Error("wrong");
 * ```
 */
export function checksum(bytes: Uint8Array, salt: number): number {
  return checksumFinish(checksumPartial(bytes, salt));
}
