/**
 * Codec 1 (`gzip`): a zlib stream (RFC 1950), as zlib `compress2`/`uncompress` make and read,
 * despite the name (wdiff-and-archive.md §2).
 *
 * Two implementations, chosen once per thread when this module loads:
 *
 * - the system zlib through FFI (ffi/libz.ts), when FFI is allowed, `libz.so.1` is installed and
 *   `WALB_NATIVE_CODECS` is not `0`: the original's own calls and bytes;
 * - else the runtime's zlib through node:zlib (synchronous, no extra files), which is imported
 *   only then: loading it costs a process ~30 ms and ~10 MiB (the Node compatibility layer).
 *
 * @module
 */
import { type Libz, loadLibz } from "../../ffi/libz.ts";
import { type Codec, CompressionType } from "./codec.ts";
import { codecError, describe, plainBytes, requireSize } from "./codec_error.ts";

/** zlib's default level, used for level 0 (Z_DEFAULT_COMPRESSION). */
const GZIP_LEVEL_DEFAULT = 6;

const levelOf = (level: number) => level === 0 ? GZIP_LEVEL_DEFAULT : level;

const libz = loadLibz();

/** node:zlib, imported only without the system zlib (see the module comment). */
const nodeZlib = libz === undefined ? await import("node:zlib") : undefined;

/**
 * zlib stream codec over node:zlib; level 0 means 6, else 1..9.
 *
 * @param zlib the imported node:zlib module
 * @returns the codec
 */
export function nodeGzipCodec(zlib: typeof import("node:zlib")): Codec {
  return {
    type: CompressionType.gzip,
    name: "gzip",
    compress(input: Uint8Array, level: number): Uint8Array {
      return plainBytes(zlib.deflateSync(input, { level: levelOf(level) }));
    },
    decompress(input: Uint8Array, outputSize: number): Uint8Array {
      let output: Uint8Array;
      try {
        // maxOutputLength bounds the allocation; one byte over lets a too-long stream be seen.
        output = zlib.inflateSync(input, { maxOutputLength: outputSize + 1 });
      } catch (error) {
        throw codecError("gzip", describe(error), error);
      }
      return requireSize("gzip", plainBytes(output), outputSize);
    },
  };
}

/**
 * zlib stream codec over the system zlib; level 0 means 6, else 1..9.
 *
 * @param lib the loaded binding
 * @returns the codec
 */
export function libzGzipCodec(lib: Libz): Codec {
  const decompressInto = (input: Uint8Array, output: Uint8Array): void => {
    try {
      lib.decompressInto(input, output);
    } catch (error) {
      throw codecError("gzip", describe(error), error);
    }
  };
  return {
    type: CompressionType.gzip,
    name: "gzip",
    compress(input: Uint8Array, level: number): Uint8Array {
      return lib.compress(input, levelOf(level));
    },
    compressSmaller(input: Uint8Array, level: number): Uint8Array | undefined {
      return lib.compressSmaller(input, levelOf(level));
    },
    decompress(input: Uint8Array, outputSize: number): Uint8Array {
      const output = new Uint8Array(outputSize);
      decompressInto(input, output);
      return output;
    },
    decompressInto,
  };
}

/** Which implementation {@link gzipCodec} uses in this thread. */
export const GZIP_IMPLEMENTATION: "libz" | "node" = libz === undefined ? "node" : "libz";

/** The gzip codec: the system zlib when available, else node:zlib. */
export const gzipCodec: Codec = libz === undefined ? nodeGzipCodec(nodeZlib!) : libzGzipCodec(libz);
