/**
 * Codec 3 (`lzma`): the .xz container, one stream, LZMA2 filter, CRC64 check, as liblzma's
 * `lzma_easy_buffer_encode`/`lzma_stream_buffer_decode` make and read (wdiff-and-archive.md §2).
 *
 * Two implementations, chosen once when this module loads:
 *
 * - the system liblzma through FFI (ffi/liblzma.ts), when FFI is allowed and `liblzma.so.5`
 *   is installed: the original's own library, so the bytes equal the original's, and about
 *   twice as fast as the package; levels 1–6 are liblzma presets 1–6, 0 is preset 6;
 * - else `@napi-rs/lzma` (pure-Rust lzma-rust2 as a Node-API addon, self-contained). Its
 *   synchronous API has one preset, 6 (dictionary 8 MiB, CRC64), so every level writes preset-6
 *   data; the output decodes with liblzma but is not byte-identical to it.
 *
 * Neither writes presets 7–9, whose 16+ MiB dictionaries the original cannot read (§2.3).
 *
 * @module
 */
import { xz } from "@napi-rs/lzma";
import { type Liblzma, loadLiblzma } from "../../ffi/liblzma.ts";
import { type Codec, CompressionType } from "./codec.ts";
import { codecError, describe, plainBytes, requireSize } from "./codec_error.ts";
import { checkXzContainer, XZ_DICT_SIZE_MAX } from "./xz_container.ts";

/** liblzma preset of the default level (0) and the highest preset the original can read. */
const PRESET_DEFAULT = 6;

/**
 * Decoder memory limit [bytes]: the largest dictionary checkXzContainer lets through, twice
 * (liblzma's decoder needs the dictionary plus a little state).
 */
const DECODER_MEMORY_MAX = 2 * XZ_DICT_SIZE_MAX;

/** .xz codec over `@napi-rs/lzma`; every level gives preset 6 output (see the module comment). */
export const lzmaPackageCodec: Codec = {
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

/**
 * .xz codec over the system liblzma.
 *
 * @param lib the loaded binding
 * @returns the codec
 */
export function liblzmaCodec(lib: Liblzma): Codec {
  return {
    type: CompressionType.lzma,
    name: "lzma",
    compress(input: Uint8Array, level: number): Uint8Array {
      const preset = level === 0 || level > PRESET_DEFAULT ? PRESET_DEFAULT : level;
      return lib.encode(input, preset);
    },
    decompress(input: Uint8Array, outputSize: number): Uint8Array {
      checkXzContainer(input, outputSize);
      try {
        return lib.decode(input, outputSize, DECODER_MEMORY_MAX);
      } catch (error) {
        throw codecError("lzma", describe(error), error);
      }
    },
  };
}

const liblzma = loadLiblzma();

/** Which implementation {@link lzmaCodec} uses in this thread. */
export const LZMA_IMPLEMENTATION: "liblzma" | "package" = liblzma === undefined
  ? "package"
  : "liblzma";

/** The .xz codec: liblzma when available, else the package (see the module comment). */
export const lzmaCodec: Codec = liblzma === undefined ? lzmaPackageCodec : liblzmaCodec(liblzma);
