/**
 * One codec interface for the six wdiff compression types (wdiff-and-archive.md §2).
 * Implementations live beside this file; `mod.ts` here exposes {@link getCodec}.
 *
 * @module
 */

/** Numeric compression type codes as stored in wdiff records. */
export const CompressionType = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lzma: 3,
  lz4: 4,
  zstd: 5,
} as const;

/** A valid compression type code (0..5). */
export type CompressionTypeCode = (typeof CompressionType)[keyof typeof CompressionType];

/** Text names indexed by code: none, gzip, snappy, lzma, lz4, zstd. */
export const COMPRESSION_NAMES = ["none", "gzip", "snappy", "lzma", "lz4", "zstd"] as const;

/**
 * A block codec. Each wdiff record is compressed independently.
 * `compress` returns the codec's raw output (the caller applies the "only if strictly smaller"
 * rule, see `compressIfSmaller`); `decompress` must return exactly `outputSize` bytes or throw
 * CorruptDataError.
 */
export interface Codec {
  readonly type: CompressionTypeCode;
  readonly name: (typeof COMPRESSION_NAMES)[number];
  /** @param level 0 = the codec's default level (zlib 6, xz 6, zstd 1), else 1..9 */
  compress(input: Uint8Array, level: number): Uint8Array;
  /**
   * Optional: like `compress`, but undefined (and no output allocated) when the result would
   * not be strictly smaller than `input`. Why: random data never shrinks, and copying out each
   * failed attempt cost the wlog conversion a fresh buffer per record.
   */
  compressSmaller?(input: Uint8Array, level: number): Uint8Array | undefined;
  decompress(input: Uint8Array, outputSize: number): Uint8Array;
  /**
   * Optional: like `decompress`, into `output` (exactly `output.length` bytes or
   * CorruptDataError). Why: a consumer that writes the data out at once (wdiff-redo) can reuse
   * one buffer instead of a fresh array per record.
   */
  decompressInto?(input: Uint8Array, output: Uint8Array): void;
}

/** Compression settings `type:level:numCpu` (numCpu only sets parallelism, never the bytes). */
export interface CompressOpt {
  type: CompressionTypeCode;
  level: number;
  numCpu: number;
}
