import { assertEquals, assertThrows } from "../testing/assert.ts";
import { UsageError } from "../errors.ts";
import { checkBulkSize, checkGetParams, checkVolumeId, parseSizeUnit } from "./param_check.ts";
import { WALBC_COMMANDS } from "./walbc_commands.ts";

Deno.test("checkVolumeId() allows 1-64 of [0-9A-Za-z-]", () => {
  assertEquals(checkVolumeId("vol-0"), "vol-0");
  for (const bad of ["", "bad_id", "a".repeat(65), "v/0"]) {
    assertThrows(() => checkVolumeId(bad), UsageError);
  }
});

Deno.test("parseSizeUnit() uses powers of 1024 up to e", () => {
  assertEquals(parseSizeUnit("64k"), 65536n);
  assertEquals(parseSizeUnit("1e"), 1n << 60n);
  assertThrows(() => parseSizeUnit("16e"), UsageError);
  assertThrows(() => parseSizeUnit("0x10"), UsageError);
  assertEquals(checkBulkSize("4M"), 4n << 20n);
  assertThrows(() => checkBulkSize("511"), UsageError);
});

Deno.test("checkGetParams() checks targets and their arguments", () => {
  checkGetParams(["diff", "vol0", "0", "10"]);
  checkGetParams(["restored-path", "vol0", "4"]);
  checkGetParams(["restorable", "vol0", "all"]);
  for (
    const bad of [
      [],
      ["foo"],
      ["diff", "vol0", "5", "5"],
      ["state"],
      ["state", "vol0", "x"],
      ["num-action", "vol0", "Sleep"],
      ["restorable", "vol0", "some"],
    ]
  ) {
    assertThrows(() => checkGetParams(bad), UsageError);
  }
});

Deno.test("WALBC_COMMANDS check() refuses bad parameters locally", () => {
  const check = (name: string, params: string[]) => WALBC_COMMANDS.get(name)!.check(params);
  check("merge", ["vol0", "1", "gid", "4"]);
  assertThrows(() => check("merge", ["vol0", "4", "gid", "4"]), UsageError);
  assertThrows(() => check("merge", ["vol0", "1", "lsid", "4"]), UsageError);
  check("archive-info", ["add", "vol0", "a0", "localhost:10200", "snappy:0:1", "0"]);
  assertThrows(() => check("archive-info", ["add", "vol0", "a0"]), UsageError);
  assertThrows(() => check("archive-info", ["move", "vol0"]), UsageError);
  check("dbg-set-base", ["vol0", "<|0|>-20200101000000"]);
  check("dbg-set-base", ["vol0", "<|0|>"]);
  assertThrows(() => check("dbg-set-base", ["vol0", "|0|"]), UsageError);
  assertThrows(() => check("dbg-set-uuid", ["vol0", "123"]), UsageError);
  assertThrows(() => check("disable-snapshot", ["vol0"]), UsageError);
  assertThrows(() => check("full-bkp", ["vol0", "8M"]), UsageError);
  assertThrows(() => check("shutdown", ["now"]), UsageError);
  check("replicate", ["vol0", "gid", "5", "h:1", "1", "0", "zstd:3:2", "1G", "64K"]);
  assertThrows(() => check("replicate", ["vol0", "gid", "5", "h"]), UsageError);
  assertThrows(() => check("exec", []), UsageError);
});
