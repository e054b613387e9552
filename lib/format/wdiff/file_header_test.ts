import { assertEquals, assertThrows, toHex } from "../../testing/assert.ts";
import { ChecksumMismatchError, CorruptDataError } from "../../errors.ts";
import { buildWdiffHeader, parseWdiffHeader, uuidHex, WdiffType } from "./file_header.ts";

const uuid = Uint8Array.from({ length: 16 }, (_, i) => i);

Deno.test("buildWdiffHeader() matches the §20 examples", () => {
  assertEquals(
    toHex(buildWdiffHeader(WdiffType.sorted, uuid)),
    "e6e3dfdb020000000000000000000000" + "000102030405060708090a0b0c0d0e0f",
  );
  assertEquals(
    toHex(buildWdiffHeader(WdiffType.sorted, new Uint8Array(16))),
    "feffffff0200" + "00".repeat(26),
  );
  assertEquals(
    toHex(buildWdiffHeader(WdiffType.indexed, new Uint8Array(16))),
    "fefffeff020001" + "00".repeat(25),
  );
});

Deno.test("parseWdiffHeader() round-trips and rejects corruption", () => {
  const bytes = buildWdiffHeader(WdiffType.sorted, uuid);
  const header = parseWdiffHeader(bytes);
  assertEquals(header.checksum, 0xdbdfe3e6);
  assertEquals(header.type, 0);
  assertEquals(uuidHex(header.uuid), "000102030405060708090a0b0c0d0e0f");
  const flipped = bytes.slice();
  flipped[20]! ^= 1;
  const error = assertThrows(() => parseWdiffHeader(flipped), ChecksumMismatchError);
  assertEquals(error.offset, 0);
  const badType = buildWdiffHeader(WdiffType.sorted, uuid);
  badType[6] = 2;
  badType[2]! -= 2; // keep the checksum valid: the sum grew by 2 << 16
  assertThrows(() => parseWdiffHeader(badType), CorruptDataError, "type is 2");
  assertThrows(() => parseWdiffHeader(new Uint8Array(10)), CorruptDataError);
});
