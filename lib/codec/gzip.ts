/**
 * Codec 1 (`gzip`): a zlib stream (RFC 1950), as zlib `compress2`/`uncompress` make and read,
 * despite the name (wdiff-and-archive.md §2). Uses the runtime's zlib through node:zlib, which
 * is synchronous and needs no extra files.
 *
 * @module
 */
import { deflateSync, inflateSync } from "node:zlib";
import { type Codec, CompressionType } from "./codec.ts";
import { codecError, describe, plainBytes, requireSize } from "./codec_error.ts";

/** zlib's default level, used for level 0 (Z_DEFAULT_COMPRESSION). */
const GZIP_LEVEL_DEFAULT = 6;

/** zlib stream codec; level 0 means 6, else 1..9. */
export const gzipCodec: Codec = {
  type: CompressionType.gzip,
  name: "gzip",
  compress(input: Uint8Array, level: number): Uint8Array {
    const zlibLevel = level === 0 ? GZIP_LEVEL_DEFAULT : level;
    return plainBytes(deflateSync(input, { level: zlibLevel }));
  },
  decompress(input: Uint8Array, outputSize: number): Uint8Array {
    let output: Uint8Array;
    try {
      // maxOutputLength bounds the allocation; one byte over lets a too-long stream be seen.
      output = inflateSync(input, { maxOutputLength: outputSize + 1 });
    } catch (error) {
      throw codecError("gzip", describe(error), error);
    }
    return requireSize("gzip", plainBytes(output), outputSize);
  },
};
