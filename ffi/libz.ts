/**
 * Optional binding to the system zlib (Debian `zlib1g`): `compress2` and `uncompress`, the calls
 * walb-tools makes for its "gzip" records (zlib streams). Why: the runtime's node:zlib costs every
 * process and worker that loads it ~30 ms of CPU and ~10 MiB of resident memory at start-up (the
 * Node compatibility layer), a tenth of a wlog conversion, which never uses it; and the system
 * library writes the original's bytes.
 *
 * Loading is lazy and never throws: {@link loadLibz} returns undefined when FFI is not allowed,
 * native codecs are switched off (`WALB_NATIVE_CODECS=0`) or the library is missing, and callers
 * fall back to node:zlib.
 *
 * @module
 */
import { nativeLibraryLoader, scratchCompressor } from "./native_switch.ts";

const SYMBOLS = {
  // int compress2(Bytef* dest, uLongf* destLen, const Bytef* source, uLong sourceLen, int level)
  compress2: { parameters: ["buffer", "buffer", "buffer", "usize", "i32"], result: "i32" },
  // int uncompress(Bytef* dest, uLongf* destLen, const Bytef* source, uLong sourceLen)
  uncompress: { parameters: ["buffer", "buffer", "buffer", "usize"], result: "i32" },
  compressBound: { parameters: ["usize"], result: "usize" },
} as const;

/** zlib's success value. */
const Z_OK = 0;
/** Names of zlib's error values, for messages. */
const ERROR_NAMES: Record<number, string> = {
  [-2]: "Z_STREAM_ERROR",
  [-3]: "Z_DATA_ERROR",
  [-4]: "Z_MEM_ERROR",
  [-5]: "Z_BUF_ERROR",
};

/** A failed zlib call: `code` is its return value. */
export class LibzError extends Error {
  constructor(readonly call: string, readonly code: number) {
    super(`${call} failed: ${ERROR_NAMES[code] ?? `zlib error ${code}`}`);
    this.name = "LibzError";
  }
}

/** The one-call zlib stream functions. */
export interface Libz {
  /** The zlib stream of `input` at `level` 1..9 (a fresh array of exactly its size). */
  compress(input: Uint8Array, level: number): Uint8Array;
  /** Like {@link compress}, or undefined (nothing copied out) unless shorter than `input`. */
  compressSmaller(input: Uint8Array, level: number): Uint8Array | undefined;
  /**
   * Decodes a zlib stream into `output`, which it must fill exactly.
   *
   * @throws {LibzError} when the stream is invalid or longer than `output` (Z_BUF_ERROR)
   * @throws {RangeError} when it is shorter
   */
  decompressInto(input: Uint8Array, output: Uint8Array): void;
}

/** The library file name, as Debian's zlib1g installs it. */
export const LIBZ_NAME = "libz.so.1";

/**
 * The system zlib, or undefined when it cannot or must not be used. Loads once per thread.
 *
 * @returns the binding or undefined
 * @example
 * ```ts
 * import { loadLibz } from "./libz.ts";
 * const zlib = loadLibz();
 * if (zlib !== undefined) {
 *   const data = new Uint8Array(4096).fill(7);
 *   const output = new Uint8Array(4096);
 *   zlib.decompressInto(zlib.compress(data, 6), output);
 *   if (output[100] !== 7) throw new Error("round trip");
 * }
 * ```
 */
export function loadLibz(): Libz | undefined {
  return load();
}

type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

function bind(lib: Symbols): Libz {
  const lengthCell = new BigUint64Array(1);
  const compressor = scratchCompressor(
    (length) => Number(lib.compressBound(BigInt(length))),
    (output, input, level: number) => {
      lengthCell[0] = BigInt(output.length);
      const code = lib.compress2(output, lengthCell, input, BigInt(input.length), level);
      if (code !== Z_OK) throw new LibzError("compress2", code);
      return Number(lengthCell[0]);
    },
  );
  return {
    ...compressor,
    decompressInto(input, output) {
      lengthCell[0] = BigInt(output.length);
      const code = lib.uncompress(output, lengthCell, input, BigInt(input.length));
      if (code !== Z_OK) throw new LibzError("uncompress", code);
      const produced = Number(lengthCell[0]);
      if (produced !== output.length) {
        throw new RangeError(`zlib stream gave ${produced} of ${output.length} bytes`);
      }
    },
  };
}

const load = nativeLibraryLoader(LIBZ_NAME, SYMBOLS, bind);
