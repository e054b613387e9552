/**
 * Optional binding to the system libzstd (Debian `libzstd1`): one-shot frames through a reused
 * compression and decompression context (`ZSTD_compressCCtx`, `ZSTD_decompressDCtx`), the
 * frames `ZSTD_compress` makes, as walb-tools writes them. Why: the runtime's node:zlib zstd
 * builds a new context (window tables included) for every call; a wdiff merge compresses one
 * frame per record (~11 500 for the issue #3 workload), and the per-call set-up made it run at
 * half the speed of the reused context.
 *
 * Loading is lazy and never throws: {@link loadLibzstd} returns undefined when FFI is not
 * allowed, native codecs are switched off (`WALB_NATIVE_CODECS=0`) or the library is missing,
 * and callers fall back to node:zlib.
 *
 * @module
 */
import { nativeLibraryLoader, scratchCompressor } from "./native_switch.ts";

const SYMBOLS = {
  ZSTD_createCCtx: { parameters: [], result: "pointer" },
  ZSTD_createDCtx: { parameters: [], result: "pointer" },
  // size_t ZSTD_compressCCtx(ZSTD_CCtx*, void* dst, size_t cap, const void* src, size_t, int level)
  ZSTD_compressCCtx: {
    parameters: ["pointer", "buffer", "usize", "buffer", "usize", "i32"],
    result: "usize",
  },
  // size_t ZSTD_decompressDCtx(ZSTD_DCtx*, void* dst, size_t cap, const void* src, size_t size)
  ZSTD_decompressDCtx: {
    parameters: ["pointer", "buffer", "usize", "buffer", "usize"],
    result: "usize",
  },
  ZSTD_compressBound: { parameters: ["usize"], result: "usize" },
  ZSTD_isError: { parameters: ["usize"], result: "u32" },
  ZSTD_getErrorName: { parameters: ["usize"], result: "pointer" },
} as const;

/** A failed libzstd call, with libzstd's error name. */
export class LibzstdError extends Error {
  constructor(readonly call: string, readonly errorName: string) {
    super(`${call} failed: ${errorName}`);
    this.name = "LibzstdError";
  }
}

/** The frame calls over the loaded library (one context each per thread). */
export interface Libzstd {
  /** One zstd frame of `input` at `level` (a fresh array of exactly the frame size). */
  compress(input: Uint8Array, level: number): Uint8Array;
  /** Like {@link compress}, or undefined (nothing copied out) unless shorter than `input`. */
  compressSmaller(input: Uint8Array, level: number): Uint8Array | undefined;
  /**
   * Decodes frames that must expand to exactly `outputSize` bytes.
   *
   * @throws {LibzstdError} when the input is invalid or expands to more than `outputSize`
   * @throws {RangeError} when it expands to fewer bytes
   */
  decompress(input: Uint8Array, outputSize: number): Uint8Array;
  /** Like {@link decompress}, into `output` (which must be filled exactly). */
  decompressInto(input: Uint8Array, output: Uint8Array): void;
}

/** The library file name, as Debian's libzstd1 installs it. */
export const LIBZSTD_NAME = "libzstd.so.1";

/**
 * The system libzstd, or undefined when it cannot or must not be used. Loads once per thread.
 *
 * @returns the binding or undefined
 * @example
 * ```ts
 * import { loadLibzstd } from "./libzstd.ts";
 * const zstd = loadLibzstd();
 * if (zstd !== undefined) {
 *   const data = new Uint8Array(4096).fill(7);
 *   if (zstd.decompress(zstd.compress(data, 1), 4096)[100] !== 7) throw new Error("round trip");
 * }
 * ```
 */
export function loadLibzstd(): Libzstd | undefined {
  return load();
}

type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

function bind(lib: Symbols): Libzstd {
  const cctx = lib.ZSTD_createCCtx();
  const dctx = lib.ZSTD_createDCtx();
  if (cctx === null || dctx === null) throw new Error("ZSTD_createCCtx/DCtx returned NULL");
  const check = (call: string, result: number | bigint): number => {
    const value = BigInt(result);
    if (lib.ZSTD_isError(value) !== 0) {
      const name = lib.ZSTD_getErrorName(value);
      throw new LibzstdError(call, name === null ? "?" : Deno.UnsafePointerView.getCString(name));
    }
    return Number(value);
  };
  const compressor = scratchCompressor(
    (length) => Number(lib.ZSTD_compressBound(BigInt(length))),
    (output, input, level: number) =>
      check(
        "ZSTD_compressCCtx",
        lib.ZSTD_compressCCtx(
          cctx,
          output,
          BigInt(output.length),
          input,
          BigInt(input.length),
          level,
        ),
      ),
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
      const result = lib.ZSTD_decompressDCtx(
        dctx,
        output,
        BigInt(outputSize),
        input,
        BigInt(input.length),
      );
      const produced = check("ZSTD_decompressDCtx", result);
      if (produced !== outputSize) {
        throw new RangeError(`zstd frame gave ${produced} of ${outputSize} bytes`);
      }
    },
  };
}

const load = nativeLibraryLoader(LIBZSTD_NAME, SYMBOLS, bind);
