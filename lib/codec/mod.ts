/**
 * Compression codecs of wdiff records (wdiff-and-archive.md §2): lookup by code, text parsing of
 * codec names and `type:level:numCpu` options, the "use only if strictly smaller" rule (§2.1) and
 * exact-size decompression (§2.2).
 *
 * Every function is synchronous so that worker threads can call it for parallel compression.
 *
 * @example
 * ```ts
 * import { compressIfSmaller, CompressionType, decompressExact } from "./mod.ts";
 * const data = new Uint8Array(4096).fill(0x41);
 * const stored = compressIfSmaller(CompressionType.snappy, data, 0);
 * const restored = decompressExact(stored.type, stored.data, data.length);
 * if (restored.length !== 4096) throw new Error("round trip failed");
 * ```
 *
 * @module
 */
import { CorruptDataError, LimitExceededError, UsageError } from "../errors.ts";
import { LIMITS } from "../limits.ts";
import {
  type Codec,
  COMPRESSION_NAMES,
  CompressionType,
  type CompressionTypeCode,
  type CompressOpt,
} from "./codec.ts";
import { gzipCodec } from "./gzip.ts";
import { lz4Codec } from "./lz4.ts";
import { lzmaCodec } from "./lzma.ts";
import { noneCodec } from "./none.ts";
import { snappyCodec } from "./snappy.ts";
import { zstdCodec } from "./zstd.ts";

export {
  type Codec,
  COMPRESSION_NAMES,
  CompressionType,
  type CompressionTypeCode,
  type CompressOpt,
};

const CODECS: readonly Codec[] = [
  noneCodec,
  gzipCodec,
  snappyCodec,
  lzmaCodec,
  lz4Codec,
  zstdCodec,
];

/** Highest level a CompressOpt accepts (the original's verify rule). */
const COMPRESS_LEVEL_MAX = 9;
/** Highest worker count a CompressOpt accepts (a u8 on the wire). */
const COMPRESS_CPU_COUNT_MAX = 255;

/**
 * Returns the codec for a compression type code.
 *
 * @param type a code 0..5 (see {@link CompressionType})
 * @returns the codec
 * @throws {RangeError} when the code is not one of the six (callers validate codes read from input)
 * @example
 * ```ts
 * import { CompressionType, getCodec } from "./mod.ts";
 * if (getCodec(CompressionType.zstd).name !== "zstd") throw new Error("bad lookup");
 * ```
 */
export function getCodec(type: CompressionTypeCode): Codec {
  const codec = CODECS[type];
  if (codec === undefined) throw new RangeError(`getCodec: unknown compression type ${type}`);
  return codec;
}

/**
 * Parses a codec name as the CLI and text configuration spell it.
 *
 * @param name one of none, gzip, snappy, lzma, lz4, zstd
 * @returns its code
 * @throws {UsageError} `wrong type:{name}` for any other name
 * @example
 * ```ts
 * import { parseCompressionType } from "./mod.ts";
 * if (parseCompressionType("lz4") !== 4) throw new Error("bad code");
 * ```
 */
export function parseCompressionType(name: string): CompressionTypeCode {
  const index = (COMPRESSION_NAMES as readonly string[]).indexOf(name);
  if (index < 0) throw new UsageError(`wrong type:${name}`);
  return index as CompressionTypeCode;
}

/**
 * Parses `type:level:numCpu`, e.g. `snappy:0:1`.
 *
 * @param text the option text
 * @returns the parsed options
 * @throws {UsageError} `parse error:{text}` unless there are exactly three fields;
 *   `wrong type:{name}` for an unknown codec; `CompressOpt::verify:…` when level is not 0..9 or
 *   numCpu is not 1..255
 * @example
 * ```ts
 * import { parseCompressOpt } from "./mod.ts";
 * const opt = parseCompressOpt("zstd:3:2");
 * if (opt.type !== 5 || opt.level !== 3 || opt.numCpu !== 2) throw new Error("bad parse");
 * ```
 */
export function parseCompressOpt(text: string): CompressOpt {
  const fields = text.split(":");
  if (fields.length !== 3) throw new UsageError(`parse error:${text}`);
  const [typeText, levelText, cpuText] = fields as [string, string, string];
  const type = parseCompressionType(typeText);
  const level = parseDecimal(levelText);
  const numCpu = parseDecimal(cpuText);
  if (level === undefined || level > COMPRESS_LEVEL_MAX) {
    throw new UsageError(`CompressOpt::verify:bad level:${levelText}`);
  }
  if (numCpu === undefined || numCpu === 0 || numCpu > COMPRESS_CPU_COUNT_MAX) {
    throw new UsageError(`CompressOpt::verify:bad numCpu:${cpuText}`);
  }
  return { type, level, numCpu };
}

function parseDecimal(text: string): number | undefined {
  if (!/^[0-9]{1,10}$/.test(text)) return undefined;
  return Number(text);
}

/** Formats options back to `type:level:numCpu`. */
export function formatCompressOpt(opt: CompressOpt): string {
  return `${COMPRESSION_NAMES[opt.type]}:${opt.level}:${opt.numCpu}`;
}

/**
 * Frees a codec output nobody will use, now rather than at V8's next collection: incompressible
 * data (random payloads) makes one such output per record, and as garbage they raised the
 * sorted conversion's peak RSS. Only an output that is its buffer's sole view (a fresh codec
 * result, not a pooled or wasm buffer) is detached.
 */
function discardOutput(output: Uint8Array): void {
  const buffer = output.buffer;
  if (!(buffer instanceof ArrayBuffer) || buffer.detached) return;
  if (output.byteOffset !== 0 || output.byteLength !== buffer.byteLength) return;
  if (buffer.resizable) return;
  buffer.transfer(0);
}

/**
 * Compresses one record's data, keeping the result only when it is strictly smaller (§2.1).
 *
 * @param type the codec asked for
 * @param input uncompressed bytes
 * @param level 0 (codec default) or 1..9
 * @returns the type actually stored (`none` when compression did not shrink the data) and the
 *   stored bytes (`input` itself when `none`)
 * @example
 * ```ts
 * import { compressIfSmaller, CompressionType } from "./mod.ts";
 * const random = Uint8Array.of(0x3f, 0x91, 0x07);
 * if (compressIfSmaller(CompressionType.gzip, random, 0).type !== CompressionType.none) {
 *   throw new Error("expected none for incompressible data");
 * }
 * ```
 */
export function compressIfSmaller(
  type: CompressionTypeCode,
  input: Uint8Array,
  level: number,
): { type: CompressionTypeCode; data: Uint8Array } {
  if (type !== CompressionType.none) {
    const codec = getCodec(type);
    if (codec.compressSmaller !== undefined) {
      const compressed = codec.compressSmaller(input, level);
      return compressed === undefined
        ? { type: CompressionType.none, data: input }
        : { type, data: compressed };
    }
    const compressed = codec.compress(input, level);
    if (compressed.length < input.length) return { type, data: compressed };
    if (compressed.buffer !== input.buffer) discardOutput(compressed);
  }
  return { type: CompressionType.none, data: input };
}

/**
 * Decompresses one record's stored bytes and requires exactly `outputSize` bytes (§2.2).
 *
 * @param type the record's compression type
 * @param stored the stored bytes
 * @param outputSize expected uncompressed size [bytes]; never allocates more
 * @param offset where the record's data sits in its file or stream, for the error (-1 unknown)
 * @returns the uncompressed bytes (for `none`, a view of `stored`)
 * @throws {CorruptDataError} what = "compressed record", when the codec fails or the size differs
 * @throws {LimitExceededError} when `outputSize` is over `LIMITS.codecOutputSizeMax`
 */
export function decompressExact(
  type: CompressionTypeCode,
  stored: Uint8Array,
  outputSize: number,
  offset = -1,
): Uint8Array {
  if (outputSize > LIMITS.codecOutputSizeMax) {
    throw new LimitExceededError("decompressed record size", LIMITS.codecOutputSizeMax, outputSize);
  }
  if (type === CompressionType.none) {
    if (stored.length !== outputSize) {
      throw new CorruptDataError(
        "compressed record",
        offset,
        `none: stored size is ${stored.length}, expected ${outputSize}`,
      );
    }
    return stored;
  }
  const codec = getCodec(type);
  try {
    return codec.decompress(stored, outputSize);
  } catch (error) {
    if (error instanceof CorruptDataError) {
      throw new CorruptDataError("compressed record", offset, `${codec.name}: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * {@link decompressExact} into `target`: exactly `target.length` bytes, in place when the
 * codec can ({@link Codec.decompressInto}), else through a fresh array.
 *
 * @param type the record's compression type
 * @param stored the stored bytes
 * @param target receives the uncompressed bytes; its length is the expected size
 * @param offset where the record's data sits, for the error (-1 unknown)
 * @throws {CorruptDataError} / {LimitExceededError} as {@link decompressExact}
 * @example
 * ```ts
 * import { compressIfSmaller, CompressionType, decompressExactInto } from "./mod.ts";
 * const data = new Uint8Array(4096).fill(0x41);
 * const stored = compressIfSmaller(CompressionType.snappy, data, 0);
 * const target = new Uint8Array(4096);
 * decompressExactInto(stored.type, stored.data, target);
 * if (target[4095] !== 0x41) throw new Error("round trip failed");
 * ```
 */
export function decompressExactInto(
  type: CompressionTypeCode,
  stored: Uint8Array,
  target: Uint8Array,
  offset = -1,
): void {
  const codec = type === CompressionType.none ? undefined : getCodec(type);
  if (codec?.decompressInto === undefined || target.length > LIMITS.codecOutputSizeMax) {
    target.set(decompressExact(type, stored, target.length, offset));
    return;
  }
  try {
    codec.decompressInto(stored, target);
  } catch (error) {
    if (error instanceof CorruptDataError) {
      throw new CorruptDataError("compressed record", offset, `${codec.name}: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}
