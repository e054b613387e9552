/**
 * Codec 5 (`zstd`): one zstd frame (magic `28 B5 2F FD`), as `ZSTD_compress`/`ZSTD_decompress`
 * make and read (wdiff-and-archive.md §2).
 *
 * Two implementations, chosen once per thread when this module loads:
 *
 * - the system libzstd through FFI (ffi/libzstd.ts), when FFI is allowed, `libzstd.so.1` is
 *   installed and `WALB_NATIVE_CODECS` is not `0`: frames as `ZSTD_compress` makes them, through
 *   a reused context (about twice node:zlib's speed on a merge's many small frames);
 * - else the runtime's built-in zstd through node:zlib (`zstdCompressSync`/`zstdDecompressSync`),
 *   imported only then: synchronous, no extra files, native speed. The content size is pledged so the frame header
 *   carries it, as the original's frames do.
 *
 * The two may encode the same data differently; every frame decodes with either.
 *
 * @module
 */
import { type Libzstd, loadLibzstd } from "../../ffi/libzstd.ts";
import { type Codec, CompressionType } from "./codec.ts";
import { codecError, describe, plainBytes, requireSize } from "./codec_error.ts";

/** zstd level used for level 0, as in the original (ZSTD level 1). */
const ZSTD_LEVEL_DEFAULT = 1;

/**
 * zstd frame codec over node:zlib; level 0 means 1, else 1..9 (the codec accepts up to 19).
 *
 * @param zlib the imported node:zlib module
 * @returns the codec
 */
export function nodeZstdCodec(zlib: typeof import("node:zlib")): Codec {
  return {
    type: CompressionType.zstd,
    name: "zstd",
    compress(input: Uint8Array, level: number): Uint8Array {
      const options = {
        pledgedSrcSize: input.length,
        params: {
          [zlib.constants.ZSTD_c_compressionLevel]: level === 0 ? ZSTD_LEVEL_DEFAULT : level,
        },
      };
      return plainBytes(zlib.zstdCompressSync(input, options));
    },
    decompress(input: Uint8Array, outputSize: number): Uint8Array {
      let output: Uint8Array;
      try {
        // maxOutputLength bounds the allocation; one byte over lets a too-long frame be seen.
        output = zlib.zstdDecompressSync(input, { maxOutputLength: outputSize + 1 });
      } catch (error) {
        throw codecError("zstd", describe(error), error);
      }
      return requireSize("zstd", plainBytes(output), outputSize);
    },
  };
}

/**
 * zstd frame codec over the system libzstd; level 0 means 1.
 *
 * @param lib the loaded binding
 * @returns the codec
 */
export function libzstdCodec(lib: Libzstd): Codec {
  const levelOf = (level: number) => level === 0 ? ZSTD_LEVEL_DEFAULT : level;
  return {
    type: CompressionType.zstd,
    name: "zstd",
    compress(input: Uint8Array, level: number): Uint8Array {
      return lib.compress(input, levelOf(level));
    },
    compressSmaller(input: Uint8Array, level: number): Uint8Array | undefined {
      return lib.compressSmaller(input, levelOf(level));
    },
    decompress(input: Uint8Array, outputSize: number): Uint8Array {
      try {
        return lib.decompress(input, outputSize);
      } catch (error) {
        throw codecError("zstd", describe(error), error);
      }
    },
    decompressInto(input: Uint8Array, output: Uint8Array): void {
      try {
        lib.decompressInto(input, output);
      } catch (error) {
        throw codecError("zstd", describe(error), error);
      }
    },
  };
}

const libzstd = loadLibzstd();

/**
 * node:zlib, imported only without libzstd: loading it costs a process ~30 ms and ~10 MiB (the
 * Node compatibility layer).
 */
const nodeZlib = libzstd === undefined ? await import("node:zlib") : undefined;

/** Which implementation {@link zstdCodec} uses in this thread. */
export const ZSTD_IMPLEMENTATION: "libzstd" | "node" = libzstd === undefined ? "node" : "libzstd";

/** The zstd codec: libzstd when available, else node:zlib (see the module comment). */
export const zstdCodec: Codec = libzstd === undefined
  ? nodeZstdCodec(nodeZlib!)
  : libzstdCodec(libzstd);
