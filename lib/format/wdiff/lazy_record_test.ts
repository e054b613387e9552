import { assertEquals, assertThrows } from "../../testing/assert.ts";
import { AssertionError } from "../../errors.ts";
import { LazyDataRecord } from "./lazy_record.ts";

function wholeRecord(fill: number): LazyDataRecord {
  return new LazyDataRecord(0, 2, () => new Uint8Array(1024).fill(fill), {
    compressionType: 0,
    stored: new Uint8Array(1024),
    checksum: 0,
  });
}

Deno.test("LazyDataRecord.releaseData() frees the data of a whole, unsliced record", () => {
  const record = wholeRecord(3);
  const data = record.data;
  record.releaseData();
  assertEquals((data.buffer as ArrayBuffer).detached, true);
  assertThrows(() => record.data, AssertionError);
});

Deno.test("LazyDataRecord.releaseData() keeps data that slices or nobody loaded", () => {
  const parent = wholeRecord(4);
  const piece = parent.slice(1, 2);
  const parentData = parent.data;
  parent.releaseData(); // sliced: the piece still needs the data
  assertEquals((parentData.buffer as ArrayBuffer).detached, false);
  assertEquals(piece.data[0], 4);
  piece.releaseData(); // a slice (no stored form) owns nothing
  assertEquals((parentData.buffer as ArrayBuffer).detached, false);
  const unloaded = wholeRecord(5);
  unloaded.releaseData(); // nothing loaded: nothing to free, the data can still be loaded
  assertEquals(unloaded.data[0], 5);
});

Deno.test("LazyDataRecord.releaseData() keeps raw data shared with its stored bytes", () => {
  const stored = new Uint8Array(1024).fill(6); // the whole payload of its pack
  const record = new LazyDataRecord(0, 2, () => stored, {
    compressionType: 0,
    stored,
    checksum: 0,
  });
  assertEquals(record.data === stored, true);
  record.releaseData();
  assertEquals((stored.buffer as ArrayBuffer).detached, false);
});
