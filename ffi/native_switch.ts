/**
 * The operator's switch for native codec libraries (libsnappy, liblzma, libzstd, zlib through FFI):
 * `WALB_NATIVE_CODECS=0` makes every thread use the embedded codecs instead, e.g. to rule the
 * system libraries out when chasing a problem, or to test the embedded path on a host that has
 * them. FFI must also be allowed.
 *
 * @module
 */

/** Environment variable that switches native codecs off when set to `0`. */
export const NATIVE_CODECS_ENV = "WALB_NATIVE_CODECS";

/** True when FFI is allowed and `WALB_NATIVE_CODECS` is not `0`. */
export function nativeCodecsAllowed(): boolean {
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return false;
    if (
      Deno.permissions.querySync({ name: "env", variable: NATIVE_CODECS_ENV }).state !== "granted"
    ) {
      return true;
    }
    return Deno.env.get(NATIVE_CODECS_ENV) !== "0";
  } catch (error) {
    if (error instanceof Error) return false;
    throw error;
  }
}

/**
 * A once-per-thread loader of a native library: the first call opens `name` and binds its
 * `symbols`; every call returns that binding, or undefined when native codecs are off
 * ({@link nativeCodecsAllowed}) or the library or a symbol is missing (callers then fall back
 * to their embedded codec).
 *
 * @param name the library file name, e.g. `libzstd.so.1`
 * @param symbols the FFI symbol table
 * @param bind wraps the opened symbols (may throw: the library then counts as missing)
 * @returns the loader
 */
export function nativeLibraryLoader<S extends Deno.ForeignLibraryInterface, T>(
  name: string,
  symbols: S,
  bind: (lib: Deno.DynamicLibrary<S>["symbols"]) => T,
): () => T | undefined {
  let loaded: T | null | undefined;
  return () => {
    if (loaded === undefined) {
      try {
        loaded = nativeCodecsAllowed() ? bind(Deno.dlopen(name, symbols).symbols) : null;
      } catch (error) {
        if (!(error instanceof Error)) throw error;
        loaded = null;
      }
    }
    return loaded ?? undefined;
  };
}

/** `compress` and `compressSmaller` of a native codec binding (see {@link scratchCompressor}). */
export interface ScratchCompressor<A extends unknown[]> {
  /** The compressed form of `input` (a fresh array of exactly its size). */
  compress(input: Uint8Array, ...args: A): Uint8Array;
  /** Like `compress`, or undefined (nothing copied out) unless shorter than `input`. */
  compressSmaller(input: Uint8Array, ...args: A): Uint8Array | undefined;
}

/** Initial size of a compressor's scratch output, grown on demand. */
const SCRATCH_MIN = 64 * 1024;

/**
 * Compresses through one per-binding scratch output, grown to `bound(input.length)` when needed;
 * results are copied out of it, so callers never share it.
 *
 * @param bound the library's worst-case output size for an input length
 * @param compressInto compresses `input` into `output` and returns the output length (throws on
 *   a library error)
 * @returns the two compress calls
 */
export function scratchCompressor<A extends unknown[]>(
  bound: (inputLength: number) => number,
  compressInto: (output: Uint8Array, input: Uint8Array, ...args: A) => number,
): ScratchCompressor<A> {
  let scratch = new Uint8Array(SCRATCH_MIN);
  const run = (input: Uint8Array, args: A): number => {
    const size = bound(input.length);
    if (scratch.length < size) scratch = new Uint8Array(Math.max(size, scratch.length * 2));
    return compressInto(scratch, input, ...args);
  };
  return {
    compress(input, ...args) {
      const length = run(input, args); // may replace `scratch`: call it first
      return scratch.slice(0, length);
    },
    compressSmaller(input, ...args) {
      const length = run(input, args);
      return length < input.length ? scratch.slice(0, length) : undefined;
    },
  };
}
