/**
 * Codec 4 (`lz4`): the raw LZ4 block format (no frame, no size prefix), as
 * `LZ4_compress_default`/`LZ4_decompress_safe` make and read (wdiff-and-archive.md §2).
 *
 * Written here in plain TypeScript from the public block-format description: a sequence is a
 * token (literal length high nibble, match length − 4 low nibble), extra length bytes (255 means
 * "more"), the literals, a 2-byte little-endian offset and extra match length bytes. The last
 * sequence has literals only; the last 5 bytes are literals and the last match starts at least 12
 * bytes before the end. The compressor is a greedy single-hash matcher: its output is valid LZ4
 * but not byte-identical to liblz4's. The decoder checks every length against the input left and
 * the output size it was given, so it never reads or writes out of bounds.
 *
 * @module
 */
import { type Codec, CompressionType } from "./codec.ts";
import { codecError } from "./codec_error.ts";

const MIN_MATCH = 4;
/** The last 5 bytes of a block are always literals. */
const LAST_LITERALS = 5;
/** A match may not start within the last 12 bytes. */
const MF_LIMIT = 12;
const OFFSET_MAX = 65535;
const HASH_LOG = 14;
/** After this many misses in a row the search step grows by one (skips incompressible data). */
const SKIP_TRIGGER = 6;
/** Copies shorter than this use a byte loop: cheaper than a subarray view plus set(). */
const SHORT_COPY_MAX = 32;

/** Worst-case compressed size: LZ4_COMPRESSBOUND. */
export function lz4CompressBound(inputSize: number): number {
  return inputSize + Math.floor(inputSize / 255) + 16;
}

function read32(bytes: Uint8Array, index: number): number {
  return bytes[index]! | (bytes[index + 1]! << 8) | (bytes[index + 2]! << 16) |
    (bytes[index + 3]! << 24);
}

function hash32(value: number): number {
  return Math.imul(value, 2654435761) >>> (32 - HASH_LOG);
}

/** Writes a length's continuation bytes (the nibble already held 15); returns the new index. */
function writeLengthTail(output: Uint8Array, index: number, rest: number): number {
  let remaining = rest;
  while (remaining >= 255) {
    output[index++] = 255;
    remaining -= 255;
  }
  output[index++] = remaining;
  return index;
}

/** Writes literals [anchor, end) and, when matchLength > 0, the match; returns the new index. */
function writeSequence(
  output: Uint8Array,
  outIndex: number,
  input: Uint8Array,
  literal: { anchor: number; end: number },
  match: { offset: number; length: number },
): number {
  const literalLength = literal.end - literal.anchor;
  const matchCode = match.length - MIN_MATCH;
  let index = outIndex;
  const tokenIndex = index++;
  let token = literalLength >= 15 ? 0xf0 : literalLength << 4;
  if (literalLength >= 15) index = writeLengthTail(output, index, literalLength - 15);
  if (literalLength < SHORT_COPY_MAX) {
    for (let k = 0; k < literalLength; k++) output[index + k] = input[literal.anchor + k]!;
  } else {
    output.set(input.subarray(literal.anchor, literal.end), index);
  }
  index += literalLength;
  if (match.length > 0) {
    output[index++] = match.offset & 0xff;
    output[index++] = match.offset >>> 8;
    token |= matchCode >= 15 ? 0x0f : matchCode;
    if (matchCode >= 15) index = writeLengthTail(output, index, matchCode - 15);
  }
  output[tokenIndex] = token;
  return index;
}

/**
 * Compresses `input` into one raw LZ4 block.
 *
 * @param input data (any size up to the codec output limit)
 * @returns the block; an empty input gives the single byte 0x00
 */
export function lz4CompressBlock(input: Uint8Array): Uint8Array {
  const size = input.length;
  const output = new Uint8Array(lz4CompressBound(size));
  let outIndex = 0;
  let anchor = 0;
  if (size >= MF_LIMIT + 1) {
    const table = new Int32Array(1 << HASH_LOG); // position + 1; 0 = empty
    const matchStartMax = size - MF_LIMIT;
    const matchEndMax = size - LAST_LITERALS;
    let position = 0;
    let misses = 0;
    while (position <= matchStartMax) {
      const sequence = read32(input, position);
      const slot = hash32(sequence);
      let candidate = table[slot]! - 1;
      table[slot] = position + 1;
      if (
        candidate < 0 || position - candidate > OFFSET_MAX || read32(input, candidate) !== sequence
      ) {
        position += 1 + (misses++ >> SKIP_TRIGGER);
        continue;
      }
      misses = 0;
      let start = position;
      while (start > anchor && candidate > 0 && input[start - 1] === input[candidate - 1]) {
        start--;
        candidate--;
      }
      let end = position + MIN_MATCH;
      let source = candidate + (end - start);
      while (end < matchEndMax && input[end] === input[source]) {
        end++;
        source++;
      }
      outIndex = writeSequence(output, outIndex, input, { anchor, end: start }, {
        offset: start - candidate,
        length: end - start,
      });
      anchor = end;
      position = end;
      // Index a position inside the match so the next search finds nearby repeats.
      if (end - 2 > start && end - 2 <= matchStartMax) {
        table[hash32(read32(input, end - 2))] = end - 2 + 1;
      }
    }
  }
  outIndex = writeSequence(output, outIndex, input, { anchor, end: size }, {
    offset: 0,
    length: 0,
  });
  return output.slice(0, outIndex);
}

/** Reads a length's continuation bytes; returns [extra, next index] or throws when cut short. */
function readLengthTail(input: Uint8Array, index: number): [number, number] {
  let extra = 0;
  let at = index;
  for (;;) {
    if (at >= input.length) throw codecError("lz4", `length runs past the input at ${at}`);
    const byte = input[at++]!;
    extra += byte;
    if (byte !== 255) return [extra, at];
  }
}

/**
 * Decompresses one raw LZ4 block into exactly `outputSize` bytes.
 *
 * @throws {CorruptDataError} on any malformed sequence or a size other than `outputSize`
 */
export function lz4DecompressBlock(input: Uint8Array, outputSize: number): Uint8Array {
  const output = new Uint8Array(outputSize);
  const inputSize = input.length;
  if (inputSize === 0) throw codecError("lz4", "empty block");
  let inIndex = 0;
  let outIndex = 0;
  for (;;) {
    const token = input[inIndex++]!;
    let literalLength = token >>> 4;
    if (literalLength === 15) {
      const [extra, next] = readLengthTail(input, inIndex);
      literalLength += extra;
      inIndex = next;
    }
    if (inIndex + literalLength > inputSize || outIndex + literalLength > outputSize) {
      throw codecError("lz4", `literals of ${literalLength} bytes overrun at ${inIndex}`);
    }
    if (literalLength < SHORT_COPY_MAX) {
      for (let k = 0; k < literalLength; k++) output[outIndex + k] = input[inIndex + k]!;
    } else {
      output.set(input.subarray(inIndex, inIndex + literalLength), outIndex);
    }
    inIndex += literalLength;
    outIndex += literalLength;
    if (inIndex === inputSize) break; // the last sequence has no match
    if (inIndex + 2 > inputSize) throw codecError("lz4", `offset cut short at ${inIndex}`);
    const offset = input[inIndex]! | (input[inIndex + 1]! << 8);
    inIndex += 2;
    if (offset === 0 || offset > outIndex) {
      throw codecError("lz4", `match offset ${offset} is invalid at output ${outIndex}`);
    }
    let matchLength = token & 0x0f;
    if (matchLength === 15) {
      const [extra, next] = readLengthTail(input, inIndex);
      matchLength += extra;
      inIndex = next;
    }
    matchLength += MIN_MATCH;
    if (outIndex + matchLength > outputSize) {
      throw codecError("lz4", `match of ${matchLength} bytes overruns the output at ${outIndex}`);
    }
    const source = outIndex - offset;
    if (matchLength < SHORT_COPY_MAX) {
      for (let k = 0; k < matchLength; k++) output[outIndex + k] = output[source + k]!;
    } else {
      // An overlapping match repeats its first `offset` bytes: copy in doubling chunks.
      for (let copied = 0; copied < matchLength;) {
        const chunk = Math.min(matchLength - copied, outIndex + copied - source);
        output.copyWithin(outIndex + copied, source, source + chunk);
        copied += chunk;
      }
    }
    outIndex += matchLength;
    if (inIndex >= inputSize) throw codecError("lz4", "block ends with a match");
  }
  if (outIndex !== outputSize) {
    throw codecError("lz4", `decompressed size is ${outIndex}, expected ${outputSize}`);
  }
  return output;
}

/** Raw LZ4 block codec; the level is ignored (as `LZ4_compress_default` has none). */
export const lz4Codec: Codec = {
  type: CompressionType.lz4,
  name: "lz4",
  compress(input: Uint8Array, _level: number): Uint8Array {
    return lz4CompressBlock(input);
  },
  decompress(input: Uint8Array, outputSize: number): Uint8Array {
    return lz4DecompressBlock(input, outputSize);
  },
};
