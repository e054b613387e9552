import { assert, assertEquals, assertThrows, toHex } from "../../testing/assert.ts";
import { ChecksumMismatchError, CorruptDataError } from "../../errors.ts";
import {
  buildEndPack,
  buildPackHeader,
  decodePackHeader,
  packCanAdd,
  validatePackHeader,
} from "./pack_header.ts";
import { decodeSortedRecord, encodeSortedRecord, type SortedRecord } from "./record.ts";

/** The three records of the §20 sorted example. */
export const EXAMPLE_RECORDS: SortedRecord[] = [
  {
    ioAddress: 8,
    ioBlocks: 1,
    flags: 0,
    compressionType: 2,
    dataOffset: 0,
    dataSize: 28,
    checksum: 0xbeffff82,
  },
  {
    ioAddress: 16,
    ioBlocks: 8,
    flags: 2,
    compressionType: 0,
    dataOffset: 28,
    dataSize: 0,
    checksum: 0,
  },
  {
    ioAddress: 24,
    ioBlocks: 16,
    flags: 4,
    compressionType: 0,
    dataOffset: 28,
    dataSize: 0,
    checksum: 0,
  },
];

Deno.test("encodeSortedRecord() matches the §20 record bytes", () => {
  const bytes = new Uint8Array(32);
  encodeSortedRecord(EXAMPLE_RECORDS[0]!, bytes, 0);
  assertEquals(
    toHex(bytes),
    "0800000000000000" + "01000000" + "00" + "02" + "0000" + "00000000" + "1c000000" +
      "82ffffbe" + "00000000",
  );
  assertEquals(decodeSortedRecord(bytes, 0), EXAMPLE_RECORDS[0]);
});

// §20 writes the checksum as its stored bytes BC FD FF 40 (u32 0x40FFFDBC).
Deno.test("buildPackHeader() seals the §20 pack (checksum bytes BC FD FF 40)", () => {
  const block = buildPackHeader(EXAMPLE_RECORDS);
  const header = decodePackHeader(block, 32);
  assertEquals(toHex(block.subarray(0, 4)), "bcfdff40");
  assertEquals(header.nRecords, 3);
  assertEquals(header.totalSize, 28);
  assertEquals(header.records, EXAMPLE_RECORDS);
  validatePackHeader(header, block, 32);
});

Deno.test("buildEndPack() is 00 00 FF FF 00 00 01 00 then zeros", () => {
  const block = buildEndPack();
  assertEquals(block.length, 4096);
  assertEquals(toHex(block.subarray(0, 8)), "0000ffff00000100");
  assert(block.subarray(8).every((b) => b === 0));
});

Deno.test("validatePackHeader() rejects bad checksums, offsets, flags and empty packs", () => {
  const block = buildPackHeader(EXAMPLE_RECORDS);
  const flipped = block.slice();
  flipped[100]! ^= 4;
  const error = assertThrows(
    () => validatePackHeader(decodePackHeader(flipped, 32), flipped, 32),
    ChecksumMismatchError,
  );
  assertEquals(error.offset, 32);
  const badOffset = buildPackHeader([EXAMPLE_RECORDS[0]!, {
    ...EXAMPLE_RECORDS[1]!,
    dataOffset: 0,
  }]);
  assertThrows(
    () => validatePackHeader(decodePackHeader(badOffset), badOffset, 0),
    CorruptDataError,
    "data_offset is 0, expected 28",
  );
  const bothFlags = buildPackHeader([{ ...EXAMPLE_RECORDS[1]!, flags: 6 }]);
  assertThrows(
    () => validatePackHeader(decodePackHeader(bothFlags), bothFlags, 0),
    CorruptDataError,
    "ALLZERO and DISCARD",
  );
  const empty = buildPackHeader([]);
  assertThrows(() => validatePackHeader(decodePackHeader(empty), empty, 0), CorruptDataError);
  const badCodec = buildPackHeader([{ ...EXAMPLE_RECORDS[0]!, compressionType: 6 }]);
  assertThrows(
    () => validatePackHeader(decodePackHeader(badCodec), badCodec, 0),
    CorruptDataError,
    "compression_type",
  );
});

Deno.test("packCanAdd() closes packs at 127 records or 32 MiB", () => {
  assert(packCanAdd(0, 0, 64 << 20));
  assert(packCanAdd(126, 0, 0));
  assert(!packCanAdd(127, 0, 0));
  assert(packCanAdd(1, 16 << 20, 16 << 20));
  assert(!packCanAdd(1, 16 << 20, (16 << 20) + 1));
});
