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

const liblzma = loadLiblzma();

/**
 * The package's `xz` API, loaded only when liblzma is missing. Why: the Node-API addon adds
 * ~16 MiB of resident memory and ~40 ms of CPU to the start of every tool, lzma or not (the
 * sorted wlog conversion went over its 270 MiB limit).
 */
const xzPackage = liblzma === undefined ? (await import("@napi-rs/lzma")).xz : undefined;

function packageXz(): NonNullable<typeof xzPackage> {
  if (xzPackage === undefined) throw new Error("@napi-rs/lzma is not loaded: liblzma is in use");
  return xzPackage;
}

/**
 * .xz codec over `@napi-rs/lzma`; every level gives preset 6 output (see the module comment).
 * Usable only in a thread without liblzma (the package is not loaded otherwise).
 */
export const lzmaPackageCodec: Codec = {
  type: CompressionType.lzma,
  name: "lzma",
  compress(input: Uint8Array, _level: number): Uint8Array {
    return plainBytes(packageXz().compressSync(input));
  },
  decompress(input: Uint8Array, outputSize: number): Uint8Array {
    // The decoder has no output or memory limit: check the container's promised sizes first.
    checkXzContainer(input, outputSize);
    let output: Uint8Array;
    try {
      output = packageXz().decompressSync(input);
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

/** Which implementation {@link lzmaCodec} uses in this thread. */
export const LZMA_IMPLEMENTATION: "liblzma" | "package" = liblzma === undefined
  ? "package"
  : "liblzma";

/** The .xz codec: liblzma when available, else the package (see the module comment). */
export const lzmaCodec: Codec = liblzma === undefined ? lzmaPackageCodec : liblzmaCodec(liblzma);
