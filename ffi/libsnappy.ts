/**
 * Optional binding to the system libsnappy (Debian `libsnappy1v5`) through its C API
 * (`snappy-c.h`): the library walb-tools itself links. Why: the WebAssembly build of snappy we
 * embed compresses random 256 KiB blocks at ~1.5 GB/s and decompresses at ~3 GB/s; the native
 * library (the original's own, so its bytes are the original's) is 4–30× faster, and the codec is on
 * every server's and tool's hot path (full backup, wlog conversion, merges).
 *
 * Loading is lazy and never throws: {@link loadLibsnappy} returns undefined when FFI is not
 * allowed, native codecs are switched off (`WALB_NATIVE_CODECS=0`), or the library is missing,
 * and callers fall back to the embedded WebAssembly codec.
 *
 * @module
 */
import { nativeLibraryLoader, scratchCompressor } from "./native_switch.ts";

const SYMBOLS = {
  // snappy_status snappy_compress(const char* in, size_t in_len, char* out, size_t* out_len)
  snappy_compress: { parameters: ["buffer", "usize", "buffer", "buffer"], result: "i32" },
  // snappy_status snappy_uncompress(const char* in, size_t in_len, char* out, size_t* out_len)
  snappy_uncompress: { parameters: ["buffer", "usize", "buffer", "buffer"], result: "i32" },
  snappy_max_compressed_length: { parameters: ["usize"], result: "usize" },
} as const;

/** `snappy_status` values. */
const SNAPPY_OK = 0;
const STATUS_NAMES: Record<number, string> = {
  1: "SNAPPY_INVALID_INPUT",
  2: "SNAPPY_BUFFER_TOO_SMALL",
};

/** A failed libsnappy call: `status` is its `snappy_status`. */
export class LibsnappyError extends Error {
  constructor(readonly call: string, readonly status: number) {
    super(`${call} failed: ${STATUS_NAMES[status] ?? `snappy_status ${status}`}`);
    this.name = "LibsnappyError";
  }
}

/** The two block calls over the loaded library. */
export interface Libsnappy {
  /** Raw snappy block of `input` (a fresh array of exactly the compressed size). */
  compress(input: Uint8Array): Uint8Array;
  /** Like {@link compress}, or undefined (nothing copied out) unless shorter than `input`. */
  compressSmaller(input: Uint8Array): Uint8Array | undefined;
  /**
   * Decodes a raw snappy block that must expand to exactly `outputSize` bytes.
   *
   * @throws {LibsnappyError} when the block is invalid or larger than `outputSize`
   * @throws {RangeError} when it expands to fewer bytes
   */
  decompress(input: Uint8Array, outputSize: number): Uint8Array;
  /** Like {@link decompress}, into `output` (which must be filled exactly). */
  decompressInto(input: Uint8Array, output: Uint8Array): void;
}

/** The library file name, as Debian's libsnappy1v5 installs it. */
export const LIBSNAPPY_NAME = "libsnappy.so.1";

/**
 * The system libsnappy, or undefined when it cannot or must not be used. Loads once per thread.
 *
 * @returns the binding or undefined
 * @example
 * ```ts
 * import { loadLibsnappy } from "./libsnappy.ts";
 * const snappy = loadLibsnappy();
 * if (snappy !== undefined) {
 *   const data = new Uint8Array(4096).fill(7);
 *   if (snappy.decompress(snappy.compress(data), 4096)[100] !== 7) throw new Error("round trip");
 * }
 * ```
 */
export function loadLibsnappy(): Libsnappy | undefined {
  return load();
}

type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

function bind(lib: Symbols): Libsnappy {
  const lengthCell = new BigUint64Array(1);
  const compressor = scratchCompressor(
    (length) => Number(lib.snappy_max_compressed_length(BigInt(length))),
    (output, input) => {
      lengthCell[0] = BigInt(output.length);
      const status = lib.snappy_compress(input, BigInt(input.length), output, lengthCell);
      if (status !== SNAPPY_OK) throw new LibsnappyError("snappy_compress", status);
      return Number(lengthCell[0]);
    },
  );
  return {
    ...compressor,
    decompress(input, outputSize) {
      const output = new Uint8Array(outputSize);
      this.decompressInto(input, output);
      return output;
    },
    decompressInto(input, output) {
      const outputSize = output.length;
      lengthCell[0] = BigInt(outputSize);
      const status = lib.snappy_uncompress(input, BigInt(input.length), output, lengthCell);
      if (status !== SNAPPY_OK) throw new LibsnappyError("snappy_uncompress", status);
      const produced = Number(lengthCell[0]);
      if (produced !== outputSize) {
        throw new RangeError(`snappy block gave ${produced} of ${outputSize} bytes`);
      }
    },
  };
}

const load = nativeLibraryLoader(LIBSNAPPY_NAME, SYMBOLS, bind);
