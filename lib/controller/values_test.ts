import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { UsageError } from "../errors.ts";
import { formatMetaDiffListing, formatMetaState } from "../format/meta/mod.ts";
import {
  formatGidInfo,
  parseDiffLine,
  parseGidInfo,
  parseLtsv,
  parseMetaState,
  parsePrettyTimestamp,
  parseSnapshot,
  syncOpt,
} from "./values.ts";

Deno.test("parseSnapshot() accepts |g| and |b,e| only", () => {
  assertEquals(parseSnapshot("|5|"), { gidB: 5n, gidE: 5n });
  assertEquals(parseSnapshot("|3,7|"), { gidB: 3n, gidE: 7n });
  for (const bad of ["5", "|7,3|", "|a|", "||", "|1,2,3|", "|18446744073709551616|"]) {
    assertThrows(() => parseSnapshot(bad), UsageError);
  }
});

Deno.test("parseDiffLine() round-trips the listing form", () => {
  for (
    const line of [
      "|24|-->|25,26| -- 2015-11-16T07:32:08 1",
      "|0|-->|1| MC 2017-05-24T04:49:40 4128",
      "|1|-->|2| M- --- 0",
    ]
  ) {
    assertEquals(formatMetaDiffListing(parseDiffLine(line)), line);
  }
  for (
    const bad of [
      "|1|-->|2| M- 2015-11-16T07:32:08",
      "|1|-->|2|  M- 2015-11-16T07:32:08 1",
      "|1|-->|2| X- 2015-11-16T07:32:08 1",
      "|2|-->|1| M- 2015-11-16T07:32:08 1",
      "|1|->|2| M- 2015-11-16T07:32:08 1",
    ]
  ) {
    assertThrows(() => parseDiffLine(bad), UsageError);
  }
});

Deno.test("parseMetaState() reads settled and applying states", () => {
  const applying = parseMetaState("<|2,3|-->|4,5|>-20151116073208");
  assert(applying.isApplying);
  assertEquals(
    formatMetaState(applying, { withTimestamp: true }),
    "<|2,3|-->|4,5|>-20151116073208",
  );
  const settled = parseMetaState("<|0|>-20200101000000");
  assert(!settled.isApplying);
  assertEquals(settled.timestamp, 1577836800);
  assertThrows(() => parseMetaState("<|0|>"), UsageError);
  assertEquals(parseMetaState("<|0|>", { timestampOptional: true }).timestamp, 0);
  assertThrows(() => parseMetaState("<|4|-->|2|>-20151116073208"), UsageError);
  assertThrows(() => parseMetaState("<|0|>-20201301000000"), UsageError);
});

Deno.test("parseGidInfo() keeps the line's text", () => {
  for (const line of ["4 2020-01-01T00:00:04 1", "0 --- 0", "7 2020-01-01T00:00:04"]) {
    assertEquals(formatGidInfo(parseGidInfo(line)), line);
  }
  assertEquals(parseGidInfo("4 2020-01-01T00:00:04 1").isExplicit, true);
  assertEquals(parseGidInfo("7 2020-01-01T00:00:04").isExplicit, undefined);
  assertThrows(() => parseGidInfo("4 2020-01-01T00:00:04 2"), UsageError);
  assertThrows(() => parseGidInfo("x ---"), UsageError);
});

Deno.test("parsePrettyTimestamp() is UTC and rejects impossible dates", () => {
  assertEquals(parsePrettyTimestamp("1970-01-01T00:00:01"), 1);
  assertEquals(parsePrettyTimestamp("---"), 0);
  assertThrows(() => parsePrettyTimestamp("2020-02-30T00:00:00"), UsageError);
});

Deno.test("parseLtsv() splits at the first colon", () => {
  const record = parseLtsv("name:vol0\tkind:archive\ttimestamp:2020-01-01T00:00:00");
  assertEquals(record.get("timestamp"), "2020-01-01T00:00:00");
  assertThrows(() => parseLtsv("name:vol0\tbad"), UsageError);
});

Deno.test("syncOpt() checks whole size strings", () => {
  assertEquals(syncOpt().bulkSizeU, "64K");
  assertThrows(() => syncOpt({ bulkSizeU: "64KB" }), UsageError);
});
