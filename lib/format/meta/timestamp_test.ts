import { CorruptDataError } from "../../errors.ts";
import { assertEquals, assertThrows } from "../../testing/assert.ts";
import {
  formatTimestampCompact,
  formatTimestampListing,
  formatTimestampPretty,
  parseTimestampCompact,
} from "./timestamp.ts";

Deno.test("formatTimestampPretty() and formatTimestampCompact() print UTC", () => {
  assertEquals(formatTimestampPretty(1388631845), "2014-01-02T03:04:05");
  assertEquals(formatTimestampCompact(1388631845), "20140102030405");
  assertEquals(formatTimestampPretty(0), "1970-01-01T00:00:00");
  assertEquals(formatTimestampListing(0), "---");
  assertEquals(formatTimestampListing(1495601380), "2017-05-24T04:49:40");
  assertEquals(formatTimestampCompact(951782400), "20000229000000");
  assertEquals(formatTimestampCompact(253402300799), "99991231235959");
});

Deno.test("formatTimestampPretty() agrees with Date over many values", () => {
  for (let t = 0; t < 253402300800; t += 987654321) {
    const iso = new Date(t * 1000).toISOString().slice(0, 19);
    assertEquals(formatTimestampPretty(t), iso);
    assertEquals(parseTimestampCompact(formatTimestampCompact(t)), t);
  }
});

Deno.test("parseTimestampCompact() checks each field with the original's messages", () => {
  assertEquals(parseTimestampCompact("20140102030405"), 1388631845);
  assertEquals(parseTimestampCompact("20140231000000"), parseTimestampCompact("20140303000000"));
  assertEquals(parseTimestampCompact("20140102030460"), parseTimestampCompact("20140102030500"));
  assertThrows(
    () => parseTimestampCompact("2014010203040"),
    CorruptDataError,
    "invalid time string.",
  );
  assertThrows(
    () => parseTimestampCompact("2014010203040x"),
    CorruptDataError,
    "invalid time string.",
  );
  assertThrows(() => parseTimestampCompact("18990102030405"), CorruptDataError, "year must be");
  const month = assertThrows(
    () => parseTimestampCompact("20141302030405"),
    CorruptDataError,
    "mon must be between 1 and 12.",
  );
  assertEquals(month.offset, 4);
  assertThrows(() => parseTimestampCompact("20140100030405"), CorruptDataError, "mday must be");
  assertThrows(() => parseTimestampCompact("20140102240405"), CorruptDataError, "hour must be");
  assertThrows(() => parseTimestampCompact("20140102036005"), CorruptDataError, "min must be");
  assertThrows(() => parseTimestampCompact("20140102030461"), CorruptDataError, "sec must be");
  assertThrows(() => parseTimestampCompact("19690102030405"), CorruptDataError, "before 1970");
});
