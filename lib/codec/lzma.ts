/**
 * Codec 3 (`lzma`): the .xz container, one stream, LZMA2 filter, CRC64 check, as liblzma's
 * `lzma_easy_buffer_encode`/`lzma_stream_buffer_decode` make and read (wdiff-and-archive.md §2).
 *
 * Uses `@napi-rs/lzma` (pure-Rust lzma-rust2 as a Node-API addon; the addon is self-contained,
 * no system liblzma). Its synchronous API has one preset, 6 (dictionary 8 MiB, CRC64), so every
 * level writes preset-6 data: that is the original's default (level 0), and it never writes
 * presets 7–9, whose 16+ MiB dictionaries the original cannot read (§2.3). The output decodes
 * with liblzma but is not byte-identical to it.
 *
 * @module
 */
import { xz } from "@napi-rs/lzma";
import { type Codec, CompressionType } from "./codec.ts";
import { codecError, describe, plainBytes, requireSize } from "./codec_error.ts";
import { checkXzContainer } from "./xz_container.ts";

/** .xz codec; every level gives preset 6 output (see the module comment). */
export const lzmaCodec: Codec = {
  type: CompressionType.lzma,
  name: "lzma",
  compress(input: Uint8Array, _level: number): Uint8Array {
    return plainBytes(xz.compressSync(input));
  },
  decompress(input: Uint8Array, outputSize: number): Uint8Array {
    // The decoder has no output or memory limit: check the container's promised sizes first.
    checkXzContainer(input, outputSize);
    let output: Uint8Array;
    try {
      output = xz.decompressSync(input);
    } catch (error) {
      throw codecError("lzma", describe(error), error);
    }
    return requireSize("lzma", plainBytes(output), outputSize);
  },
};
