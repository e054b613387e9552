import { assert, assertEquals, assertThrows } from "../../testing/assert.ts";
import { AssertionError } from "../../errors.ts";
import { checksum } from "../checksum/checksum.ts";
import { sliceRecord } from "./mem_diff.ts";
import { SourceDataRecord } from "./source_record.ts";
import { storeData } from "./stored_data.ts";
import { CompressionType } from "../../codec/codec.ts";

const input = new Uint8Array(8192).map((_, i) => (i * 31 + (i >> 9)) & 0xff);
const reader = {
  readInto: (offset: number, target: Uint8Array) =>
    target.set(input.subarray(offset, offset + target.length)),
};

Deno.test("SourceDataRecord.load() reads its bytes at its source offset", () => {
  const record = new SourceDataRecord(10, 2, 1024);
  assertThrows(() => record.data, AssertionError);
  record.load(new Uint8Array(1024), reader);
  assertEquals(record.data, input.subarray(1024, 2048));
  assertThrows(() => record.load(new Uint8Array(512), reader), AssertionError);
});

Deno.test("sliceRecord() of a SourceDataRecord gives a source record at the piece's offset", () => {
  const record = new SourceDataRecord(100, 8, 512);
  const piece = sliceRecord(record, 103, 105);
  assert(piece instanceof SourceDataRecord, "not a source record");
  assertEquals([piece.ioAddress, piece.ioBlocks, piece.sourceOffset], [103, 2, 512 + 3 * 512]);
  assertEquals(piece.checksum, undefined);
  piece.load(new Uint8Array(1024), reader);
  assertEquals(piece.data, input.subarray(2048, 3072));
});

Deno.test("SourceDataRecord.load() lets raw storage skip summing a known checksum", () => {
  const data = input.subarray(0, 1024);
  const wrong = (checksum(data, 0) + 1) >>> 0;
  const record = new SourceDataRecord(0, 2, 0, wrong);
  record.load(new Uint8Array(1024), reader);
  // The known checksum is used as is (here deliberately wrong, to show it was not summed).
  const stored = storeData(record.data, { type: CompressionType.none, level: 0 });
  assertEquals(stored.checksum, wrong);
});
