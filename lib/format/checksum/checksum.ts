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
  let s = sum | 0;
  if ((bytes.byteOffset & 3) === 0) {
    // Four int32 lanes wrapping with |0 (exactly mod 2^32): 2-3x the float64 sum per word,
    // the checksum being on every server's per-byte path.
    const words = new Int32Array(bytes.buffer, bytes.byteOffset, wordCount);
    let a = s, b = 0, c = 0, d = 0;
    const end4 = wordCount & ~3;
    let i = 0;
    for (; i < end4; i += 4) {
      a = (a + words[i]!) | 0;
      b = (b + words[i + 1]!) | 0;
      c = (c + words[i + 2]!) | 0;
      d = (d + words[i + 3]!) | 0;
    }
    for (; i < wordCount; i++) a = (a + words[i]!) | 0;
    s = (a + b + c + d) | 0;
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, length);
    for (let i = 0; i < wordCount; i++) s = (s + view.getInt32(i * 4, true)) | 0;
  }
  const tail = length & 3;
  if (tail !== 0) {
    let word = 0;
    for (let k = 0; k < tail; k++) word |= bytes[wordCount * 4 + k]! << (8 * k);
    s = (s + word) | 0;
  }
  return s >>> 0;
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
