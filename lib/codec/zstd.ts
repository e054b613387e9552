/**
 * Codec 5 (`zstd`): one zstd frame (magic `28 B5 2F FD`), as `ZSTD_compress`/`ZSTD_decompress`
 * make and read (wdiff-and-archive.md §2).
 *
 * Uses the runtime's built-in zstd through node:zlib (`zstdCompressSync`/`zstdDecompressSync`):
 * synchronous, no extra files, native speed. The content size is pledged so the frame header
 * carries it, as the original's frames do.
 *
 * @module
 */
import { constants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { type Codec, CompressionType } from "./codec.ts";
import { codecError, describe, plainBytes, requireSize } from "./codec_error.ts";

/** zstd level used for level 0, as in the original (ZSTD level 1). */
const ZSTD_LEVEL_DEFAULT = 1;

/** zstd frame codec; level 0 means 1, else 1..9 (the codec accepts up to 19). */
export const zstdCodec: Codec = {
  type: CompressionType.zstd,
  name: "zstd",
  compress(input: Uint8Array, level: number): Uint8Array {
    const options = {
      pledgedSrcSize: input.length,
      params: {
        [constants.ZSTD_c_compressionLevel]: level === 0 ? ZSTD_LEVEL_DEFAULT : level,
      },
    };
    return plainBytes(zstdCompressSync(input, options));
  },
  decompress(input: Uint8Array, outputSize: number): Uint8Array {
    let output: Uint8Array;
    try {
      // maxOutputLength bounds the allocation; one byte over lets a too-long frame be seen.
      output = zstdDecompressSync(input, { maxOutputLength: outputSize + 1 });
    } catch (error) {
      throw codecError("zstd", describe(error), error);
    }
    return requireSize("zstd", plainBytes(output), outputSize);
  },
};
