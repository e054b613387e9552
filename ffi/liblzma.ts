/**
 * Optional binding to the system liblzma (Debian `liblzma5`): the one-call .xz encoder and
 * decoder walb-tools itself uses (`lzma_easy_buffer_encode` with CRC64,
 * `lzma_stream_buffer_decode`). Why: the pure-Rust encoder of `@napi-rs/lzma` runs at about half
 * liblzma's speed, and the same library gives the original's bytes.
 *
 * Loading is lazy and never throws: {@link loadLiblzma} returns undefined when FFI is not
 * allowed, native codecs are switched off (`WALB_NATIVE_CODECS=0`) or the library is missing, and callers fall back to the package.
 *
 * @module
 */
import { nativeLibraryLoader } from "./native_switch.ts";

const SYMBOLS = {
  lzma_easy_buffer_encode: {
    // preset, check, allocator, in, in_size, out, out_pos*, out_size
    parameters: ["u32", "u32", "pointer", "buffer", "usize", "buffer", "buffer", "usize"],
    result: "i32",
  },
  lzma_stream_buffer_decode: {
    // memlimit*, flags, allocator, in, in_pos*, in_size, out, out_pos*, out_size
    parameters: [
      "buffer",
      "u32",
      "pointer",
      "buffer",
      "buffer",
      "usize",
      "buffer",
      "buffer",
      "usize",
    ],
    result: "i32",
  },
  lzma_stream_buffer_bound: { parameters: ["usize"], result: "usize" },
} as const;

/** `lzma_check` value of CRC64. */
const LZMA_CHECK_CRC64 = 4;
/** `lzma_ret` success value of the buffer functions. */
const LZMA_OK = 0;

/** Names of `lzma_ret` values, for error messages. */
const RETURN_NAMES: Record<number, string> = {
  5: "LZMA_MEM_ERROR",
  6: "LZMA_MEMLIMIT_ERROR",
  7: "LZMA_FORMAT_ERROR",
  8: "LZMA_OPTIONS_ERROR",
  9: "LZMA_DATA_ERROR",
  10: "LZMA_BUF_ERROR",
  11: "LZMA_PROG_ERROR",
};

/** A failed liblzma call: `ret` is its `lzma_ret`. */
export class LiblzmaError extends Error {
  constructor(readonly call: string, readonly ret: number) {
    super(`${call} failed: ${RETURN_NAMES[ret] ?? `lzma_ret ${ret}`}`);
    this.name = "LiblzmaError";
  }
}

/** The two buffer calls over the loaded library. */
export interface Liblzma {
  /**
   * One .xz stream (LZMA2, CRC64) of `input` with `preset` (0–9).
   *
   * @throws {LiblzmaError} when the encoder fails
   */
  encode(input: Uint8Array, preset: number): Uint8Array;
  /**
   * Decodes one .xz stream into exactly `outputSize` bytes; the whole input must be consumed.
   *
   * @param memoryLimit decoder memory limit [bytes]
   * @throws {LiblzmaError} when the data is invalid, larger than `outputSize` or over the limit
   * @throws {RangeError} when the stream ends before `outputSize` bytes or before the input end
   */
  decode(input: Uint8Array, outputSize: number, memoryLimit: number): Uint8Array;
}

/** The library file name, as Debian's liblzma5 installs it. */
export const LIBLZMA_NAME = "liblzma.so.5";

/**
 * The system liblzma, or undefined when FFI is not allowed or the library cannot be loaded.
 * Loads once per thread.
 *
 * @returns the binding or undefined
 * @example
 * ```ts
 * import { loadLiblzma } from "./liblzma.ts";
 * const lzma = loadLiblzma();
 * if (lzma !== undefined) {
 *   const data = new Uint8Array(4096).fill(7);
 *   const xz = lzma.encode(data, 6);
 *   if (lzma.decode(xz, 4096, 1 << 26)[100] !== 7) throw new Error("round trip failed");
 * }
 * ```
 */
export function loadLiblzma(): Liblzma | undefined {
  return load();
}

type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

function bind(lib: Symbols): Liblzma {
  const outPosition = new BigUint64Array(1);
  const inPosition = new BigUint64Array(1);
  const memoryLimitCell = new BigUint64Array(1);
  return {
    encode(input, preset) {
      const bound = Number(lib.lzma_stream_buffer_bound(BigInt(input.length)));
      const output = new Uint8Array(bound);
      outPosition[0] = 0n;
      const ret = lib.lzma_easy_buffer_encode(
        preset,
        LZMA_CHECK_CRC64,
        null,
        input,
        BigInt(input.length),
        output,
        outPosition,
        BigInt(bound),
      );
      if (ret !== LZMA_OK) throw new LiblzmaError("lzma_easy_buffer_encode", ret);
      return output.subarray(0, Number(outPosition[0]));
    },
    decode(input, outputSize, memoryLimit) {
      const output = new Uint8Array(outputSize);
      inPosition[0] = 0n;
      outPosition[0] = 0n;
      memoryLimitCell[0] = BigInt(memoryLimit);
      const ret = lib.lzma_stream_buffer_decode(
        memoryLimitCell,
        0,
        null,
        input,
        inPosition,
        BigInt(input.length),
        output,
        outPosition,
        BigInt(outputSize),
      );
      if (ret !== LZMA_OK) throw new LiblzmaError("lzma_stream_buffer_decode", ret);
      const consumed = Number(inPosition[0]);
      const produced = Number(outPosition[0]);
      if (produced !== outputSize || consumed !== input.length) {
        throw new RangeError(
          `xz stream gave ${produced} of ${outputSize} bytes and used ${consumed} of ${input.length}`,
        );
      }
      return output;
    },
  };
}

const load = nativeLibraryLoader(LIBLZMA_NAME, SYMBOLS, bind);
