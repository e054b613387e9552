/**
 * Checks the .xz container around LZMA2 data before it is decoded (xz file format 1.0.4:
 * stream header, blocks, index, stream footer), so a hostile record cannot make the decoder
 * produce more than the expected size or allocate a huge dictionary.
 *
 * Only the sizes are checked here; the decoder verifies the CRCs and the data.
 *
 * @module
 */
import { codecError } from "./codec_error.ts";

const STREAM_HEADER_SIZE = 12;
const STREAM_FOOTER_SIZE = 12;
const MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const FOOTER_MAGIC = [0x59, 0x5a];
const FILTER_LZMA2 = 0x21;
/** Largest LZMA2 dictionary we let the decoder allocate: preset 9's 64 MiB. */
export const XZ_DICT_SIZE_MAX = 64 * 1024 * 1024;

/** A cursor over the container bytes; every read checks the bound. */
class Cursor {
  constructor(readonly bytes: Uint8Array, public index: number, readonly end: number) {}
  byte(): number {
    if (this.index >= this.end) throw codecError("lzma", `xz structure cut short at ${this.index}`);
    return this.bytes[this.index++]!;
  }
  /** A variable-length integer (7 bits a byte, at most 9 bytes), kept below 2^53. */
  vli(): number {
    let value = 0;
    for (let count = 0; count < 8; count++) {
      const byte = this.byte();
      value += (byte & 0x7f) * 2 ** (7 * count);
      if ((byte & 0x80) === 0) {
        if (byte === 0 && count > 0) throw codecError("lzma", "xz integer is not minimal");
        return value;
      }
    }
    throw codecError("lzma", "xz integer is too large");
  }
}

function hasBytes(bytes: Uint8Array, at: number, expected: number[]): boolean {
  return expected.every((value, k) => bytes[at + k] === value);
}

/** LZMA2 dictionary size from its one-byte property (≤ 40), per the xz format. */
export function lzma2DictSize(property: number): number {
  if (property > 40) throw codecError("lzma", `LZMA2 dictionary property ${property} is invalid`);
  if (property === 40) return 0xffffffff;
  return (2 | (property & 1)) * 2 ** (Math.floor(property / 2) + 11);
}

function checkBlockHeader(bytes: Uint8Array, at: number, blockEnd: number): void {
  const sizeByte = bytes[at]!;
  if (sizeByte === 0) throw codecError("lzma", `xz block at ${at} is an index indicator`);
  const headerEnd = at + (sizeByte + 1) * 4;
  if (headerEnd > blockEnd) throw codecError("lzma", `xz block header at ${at} is too long`);
  const cursor = new Cursor(bytes, at + 1, headerEnd - 4);
  const flags = cursor.byte();
  if ((flags & 0x3c) !== 0) throw codecError("lzma", `xz block flags 0x${flags.toString(16)}`);
  if ((flags & 0x40) !== 0) cursor.vli();
  if ((flags & 0x80) !== 0) cursor.vli();
  const filterCount = (flags & 0x03) + 1;
  for (let filter = 0; filter < filterCount; filter++) {
    const id = cursor.vli();
    const propertySize = cursor.vli();
    if (id === FILTER_LZMA2) {
      if (propertySize !== 1) throw codecError("lzma", "LZMA2 filter properties size is not 1");
      const dictSize = lzma2DictSize(cursor.byte());
      if (dictSize > XZ_DICT_SIZE_MAX) {
        throw codecError("lzma", `LZMA2 dictionary of ${dictSize} bytes is over the limit`);
      }
    } else {
      for (let k = 0; k < propertySize; k++) cursor.byte();
    }
  }
}

/**
 * Verifies that `input` is one xz stream whose index promises exactly `outputSize` bytes and
 * whose LZMA2 dictionaries stay within {@link XZ_DICT_SIZE_MAX}.
 *
 * @throws {CorruptDataError} otherwise
 */
export function checkXzContainer(input: Uint8Array, outputSize: number): void {
  const size = input.length;
  if (size < STREAM_HEADER_SIZE + STREAM_FOOTER_SIZE) {
    throw codecError("lzma", `xz stream of ${size} bytes is too short`);
  }
  if (!hasBytes(input, 0, MAGIC)) throw codecError("lzma", "xz stream header magic is wrong");
  const footer = size - STREAM_FOOTER_SIZE;
  if (!hasBytes(input, footer + 10, FOOTER_MAGIC)) {
    throw codecError("lzma", "xz stream footer magic is wrong (or more than one stream)");
  }
  const backwardSize = (input[footer + 4]! | (input[footer + 5]! << 8) |
        (input[footer + 6]! << 16) | (input[footer + 7]! * 2 ** 24)) * 4 + 4;
  const indexStart = footer - backwardSize;
  if (indexStart < STREAM_HEADER_SIZE) throw codecError("lzma", "xz index size is too large");
  const cursor = new Cursor(input, indexStart, footer - 4);
  if (cursor.byte() !== 0) throw codecError("lzma", "xz index indicator is not 0");
  const recordCount = cursor.vli();
  let blockStart = STREAM_HEADER_SIZE;
  let uncompressedTotal = 0;
  for (let record = 0; record < recordCount; record++) {
    const unpaddedSize = cursor.vli();
    const uncompressedSize = cursor.vli();
    uncompressedTotal += uncompressedSize;
    if (uncompressedTotal > outputSize) {
      throw codecError("lzma", `xz index promises more than ${outputSize} bytes`);
    }
    const blockEnd = blockStart + Math.ceil(unpaddedSize / 4) * 4;
    if (unpaddedSize < 5 || blockEnd > indexStart) {
      throw codecError("lzma", `xz block ${record} size ${unpaddedSize} is invalid`);
    }
    checkBlockHeader(input, blockStart, blockEnd);
    blockStart = blockEnd;
  }
  if (blockStart !== indexStart) throw codecError("lzma", "xz blocks do not reach the index");
  if (uncompressedTotal !== outputSize) {
    throw codecError(
      "lzma",
      `xz index promises ${uncompressedTotal} bytes, expected ${outputSize}`,
    );
  }
}
