/**
 * Codec 2 (`snappy`): the raw snappy block format (varint length, then literal/copy elements).
 *
 * Two implementations, chosen once per thread when this module loads:
 *
 * - the system libsnappy through FFI (ffi/libsnappy.ts), when FFI is allowed, `libsnappy.so.1`
 *   is installed and `WALB_NATIVE_CODECS` is not `0`: 4–30× faster than WebAssembly;
 * - else the `snappy-wasm` package (Rust `snap` built to WebAssembly), embedded in the binary.
 *   The wasm file is read from the package folder and instantiated synchronously (no fetch,
 *   works offline and in worker threads).
 *
 * libsnappy is the original's own library, so its bytes are the original's. The wasm build
 * matches them on every vector record and on structured data, but may choose other matches on rare
 * inputs (a chance match in 512 random bytes); its output is valid snappy either way.
 *
 * @module
 */
import { compress_raw, decompress_raw, initSync } from "snappy-wasm";
import { type Libsnappy, loadLibsnappy } from "../../ffi/libsnappy.ts";
import { type Codec, CompressionType } from "./codec.ts";
import { codecError, describe, requireSize } from "./codec_error.ts";

let wasmReady = false;

/**
 * Instantiates the wasm module on first use. Why not at load: with libsnappy present it is
 * never used, and it cost every tool a few MiB of resident memory.
 */
function ensureWasm(): void {
  if (wasmReady) return;
  initSync(Deno.readFileSync(new URL("snappy_bg.wasm", import.meta.resolve("snappy-wasm"))));
  wasmReady = true;
}

/**
 * Reads the varint uncompressed length that starts a raw snappy block.
 *
 * @returns the length, or -1 when the varint is truncated or longer than 32 bits
 */
export function snappyDeclaredLength(input: Uint8Array): number {
  let value = 0;
  for (let index = 0; index < 5 && index < input.length; index++) {
    const byte = input[index]!;
    value += (byte & 0x7f) * 2 ** (7 * index);
    if ((byte & 0x80) === 0) return value <= 0xffffffff ? value : -1;
  }
  return -1;
}

/** Raw snappy block codec over WebAssembly; the level is ignored. */
export const snappyWasmCodec: Codec = {
  type: CompressionType.snappy,
  name: "snappy",
  compress(input: Uint8Array, _level: number): Uint8Array {
    ensureWasm();
    return compress_raw(input);
  },
  decompress(input: Uint8Array, outputSize: number): Uint8Array {
    // Check the declared length first so a hostile header never drives the allocation.
    const declared = snappyDeclaredLength(input);
    if (declared !== outputSize) {
      throw codecError("snappy", `declared length is ${declared}, expected ${outputSize}`);
    }
    ensureWasm();
    let output: Uint8Array;
    try {
      output = decompress_raw(input);
    } catch (error) {
      throw codecError("snappy", describe(error), error);
    }
    return requireSize("snappy", output, outputSize);
  },
};

/**
 * Raw snappy block codec over the system libsnappy; the level is ignored.
 *
 * @param lib the loaded binding
 * @returns the codec
 */
export function libsnappyCodec(lib: Libsnappy): Codec {
  return {
    type: CompressionType.snappy,
    name: "snappy",
    compress(input: Uint8Array, _level: number): Uint8Array {
      return lib.compress(input);
    },
    compressSmaller(input: Uint8Array, _level: number): Uint8Array | undefined {
      return lib.compressSmaller(input);
    },
    decompress(input: Uint8Array, outputSize: number): Uint8Array {
      const declared = snappyDeclaredLength(input);
      if (declared !== outputSize) {
        throw codecError("snappy", `declared length is ${declared}, expected ${outputSize}`);
      }
      try {
        return lib.decompress(input, outputSize);
      } catch (error) {
        throw codecError("snappy", describe(error), error);
      }
    },
    decompressInto(input: Uint8Array, output: Uint8Array): void {
      const declared = snappyDeclaredLength(input);
      if (declared !== output.length) {
        throw codecError("snappy", `declared length is ${declared}, expected ${output.length}`);
      }
      try {
        lib.decompressInto(input, output);
      } catch (error) {
        throw codecError("snappy", describe(error), error);
      }
    },
  };
}

const libsnappy = loadLibsnappy();

/** Which implementation {@link snappyCodec} uses in this thread. */
export const SNAPPY_IMPLEMENTATION: "libsnappy" | "wasm" = libsnappy === undefined
  ? "wasm"
  : "libsnappy";

/** The snappy codec: libsnappy when available, else WebAssembly (see the module comment). */
export const snappyCodec: Codec = libsnappy === undefined
  ? snappyWasmCodec
  : libsnappyCodec(libsnappy);
