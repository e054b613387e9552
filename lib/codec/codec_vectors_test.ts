/**
 * Decodes every record of the original tools' wdiff vectors with our codecs, checks each record
 * checksum and the decoded data, and measures which codecs reproduce the original's bytes.
 * A tiny test-local walker over the sorted layout (wdiff-and-archive.md §3, §4) keeps this test
 * independent of lib/format/wdiff.
 */
import { CorruptDataError } from "../errors.ts";
import { checksum } from "../format/checksum/checksum.ts";
import { assert, assertEquals, assertThrows, toHex, VECTORS_DIR } from "../testing/assert.ts";
import {
  COMPRESSION_NAMES,
  CompressionType,
  type CompressionTypeCode,
  decompressExact,
  getCodec,
} from "./mod.ts";
import { SNAPPY_IMPLEMENTATION, snappyWasmCodec } from "./snappy.ts";

interface StoredRecord {
  ioAddress: number;
  ioBlocks: number;
  type: CompressionTypeCode;
  stored: Uint8Array;
  dataChecksum: number;
  fileOffset: number;
}

const FILE_HEADER_SIZE = 32;
const PACK_SIZE = 4096;

/** Walks a sorted wdiff and returns its normal records with their stored bytes. */
function readNormalRecords(file: Uint8Array): StoredRecord[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  assertEquals(checksum(file.subarray(0, FILE_HEADER_SIZE), 0), 0);
  assertEquals(view.getUint8(6), 0); // sorted
  const records: StoredRecord[] = [];
  let packOffset = FILE_HEADER_SIZE;
  while (packOffset + PACK_SIZE <= file.length) {
    assertEquals(checksum(file.subarray(packOffset, packOffset + PACK_SIZE), 0), 0);
    const recordCount = view.getUint16(packOffset + 4, true);
    if ((view.getUint8(packOffset + 6) & 1) !== 0) break; // END
    const totalSize = view.getUint32(packOffset + 8, true);
    const payloadOffset = packOffset + PACK_SIZE;
    for (let index = 0; index < recordCount; index++) {
      const at = packOffset + 16 + 32 * index;
      const flags = view.getUint8(at + 12);
      if ((flags & 0x06) !== 0) continue; // all-zero or discard
      const dataOffset = view.getUint32(at + 16, true);
      const dataSize = view.getUint32(at + 20, true);
      const fileOffset = payloadOffset + dataOffset;
      records.push({
        ioAddress: Number(view.getBigUint64(at, true)),
        ioBlocks: view.getUint32(at + 8, true),
        type: view.getUint8(at + 13) as CompressionTypeCode,
        stored: file.subarray(fileOffset, fileOffset + dataSize),
        dataChecksum: view.getUint32(at + 24, true),
        fileOffset,
      });
    }
    packOffset = payloadOffset + totalSize;
  }
  return records;
}

/** Decodes every record, checking its checksum; returns address -> decoded data. */
function decodeAll(name: string): { records: StoredRecord[]; images: Map<number, Uint8Array> } {
  const records = readNormalRecords(Deno.readFileSync(`${VECTORS_DIR}${name}`));
  assert(records.length > 0, `${name} has records`);
  const images = new Map<number, Uint8Array>();
  for (const record of records) {
    assertEquals(checksum(record.stored, 0), record.dataChecksum, `${name} record checksum`);
    const size = record.ioBlocks * 512;
    const image = decompressExact(record.type, record.stored, size, record.fileOffset);
    assertEquals(image.length, size);
    images.set(record.ioAddress, image);
  }
  return { records, images };
}

/** Counts the records of `type` whose re-compression gives the stored bytes exactly. */
function countIdentical(records: StoredRecord[], images: Map<number, Uint8Array>): number[] {
  let identical = 0;
  let total = 0;
  for (const record of records) {
    if (record.type === CompressionType.none) continue;
    total++;
    const again = getCodec(record.type).compress(images.get(record.ioAddress)!, 0);
    if (toHex(again) === toHex(record.stored)) identical++;
  }
  return [identical, total];
}

const CODECS = ["none", "gzip", "snappy", "lzma", "lz4", "zstd"] as const;

Deno.test("decompressExact() decodes every record of base-2M.full.*.wdiff to base-2M.img", () => {
  const image = Deno.readFileSync(`${VECTORS_DIR}base-2M.img`);
  for (const name of [...CODECS.filter((c) => c !== "snappy"), "sorted"]) {
    const { records, images } = decodeAll(`base-2M.full.${name}.wdiff`);
    const expectedType = name === "sorted" ? "snappy" : name;
    assert(records.some((r) => COMPRESSION_NAMES[r.type] === expectedType), `${name} codec used`);
    let covered = 0;
    for (const [address, data] of images) {
      assertEquals(toHex(data), toHex(image.subarray(address * 512, address * 512 + data.length)));
      covered += data.length;
    }
    assertEquals(covered, image.length);
    const [identical, total] = countIdentical(records, images);
    // deno-lint-ignore no-console -- tests print the seed and the byte-identity counts
    console.log(`base-2M.full.${name}: ${identical}/${total} records re-compress identically`);
  }
});

Deno.test("decompressExact() decodes every record of merged.*.wdiff to the same data", () => {
  const reference = decodeAll("merged.none.wdiff").images;
  for (
    const name of [...CODECS.map((c) => `merged.${c}.wdiff`), "merged.x16k.snappy.wdiff"]
  ) {
    const { records, images } = decodeAll(name);
    const joined = (map: Map<number, Uint8Array>) =>
      [...map].sort((a, b) => a[0] - b[0]).map(([address, data]) => `${address}:${toHex(data)}`)
        .join();
    if (!name.includes("x16k")) assertEquals(joined(images), joined(reference), name);
    const [identical, total] = countIdentical(records, images);
    // deno-lint-ignore no-console -- tests print the seed and the byte-identity counts
    console.log(`${name}: ${identical}/${total} records re-compress identically`);
    if (name.includes("snappy")) assertEquals(identical, total, "snappy must be byte-identical");
  }
});

Deno.test("decompressExact() rejects truncated and bit-flipped real records", () => {
  for (const name of ["gzip", "lzma", "lz4", "zstd", "sorted"]) {
    const { records } = decodeAll(`base-2M.full.${name}.wdiff`);
    const record = records.find((r) => r.type !== CompressionType.none)!;
    const size = record.ioBlocks * 512;
    for (const cut of [0, 1, 7, record.stored.length >> 1, record.stored.length - 1]) {
      const error = assertThrows(
        () => decompressExact(record.type, record.stored.subarray(0, cut), size, 77),
        CorruptDataError,
      );
      assertEquals(error.offset, 77);
    }
    for (let bit = 0; bit < record.stored.length * 8; bit += 13) {
      const broken = record.stored.slice();
      broken[bit >> 3]! ^= 1 << (bit & 7);
      try {
        decompressExact(record.type, broken, size);
      } catch (error) {
        if (!(error instanceof CorruptDataError)) throw error;
      }
    }
  }
});

Deno.test("both snappy implementations re-compress every snappy vector record identically", () => {
  let checked = 0;
  for (
    const name of ["merged.snappy.wdiff", "merged.x16k.snappy.wdiff", "base-2M.full.sorted.wdiff"]
  ) {
    const { records, images } = decodeAll(name);
    for (const record of records) {
      if (record.type !== CompressionType.snappy) continue;
      const image = images.get(record.ioAddress)!;
      assertEquals(toHex(snappyWasmCodec.compress(image, 0)), toHex(record.stored), `${name} wasm`);
      assertEquals(snappyWasmCodec.decompress(record.stored, image.length), image);
      checked++;
    }
  }
  assert(checked > 0, "snappy records exist");
  // deno-lint-ignore no-console -- which implementation getCodec() used above
  console.log(`snappy implementation in use: ${SNAPPY_IMPLEMENTATION}; ${checked} records checked`);
});
