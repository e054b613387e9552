import { assert, assertEquals, assertThrows } from "../../testing/assert.ts";
import { AssertionError, CorruptDataError } from "../../errors.ts";
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
  const record = new SourceDataRecord(0, 2, 0, checksum(data, 0));
  const target = new Uint8Array(1024);
  record.load(target, reader);
  const stored = storeData(record.data, { type: CompressionType.none, level: 0 });
  assertEquals(stored.checksum, checksum(data, 0));
});

Deno.test("SourceDataRecord.load() refuses bytes that differ from the verified IO, pieces too", () => {
  const known = checksum(input.subarray(1024, 3072), 0); // a whole IO of 4 blocks at 1024
  const changed = input.slice();
  changed[2600] = changed[2600]! ^ 1; // inside block 3 of the IO
  const changedReader = {
    readInto: (offset: number, target: Uint8Array) =>
      target.set(changed.subarray(offset, offset + target.length)),
  };
  const whole = new SourceDataRecord(40, 4, 1024, known);
  assertThrows(() => whole.load(new Uint8Array(2048), changedReader), CorruptDataError, "changed");
  // A piece without the changed byte: still refused, its IO no longer has its checksum.
  const piece = sliceRecord(new SourceDataRecord(40, 4, 1024, known), 40, 42);
  assert(piece instanceof SourceDataRecord, "not a source record");
  assertThrows(() => piece.load(new Uint8Array(1024), changedReader), CorruptDataError);
  // Unchanged input: the piece loads its own bytes.
  const good = sliceRecord(new SourceDataRecord(40, 4, 1024, known), 41, 43) as SourceDataRecord;
  good.load(new Uint8Array(1024), reader);
  assertEquals(good.data, input.subarray(1536, 2560));
});
