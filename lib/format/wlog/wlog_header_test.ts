import { ChecksumMismatchError, CorruptDataError } from "../../errors.ts";
import { assert, assertEquals, assertThrows, toHex } from "../../testing/assert.ts";
import { buildWlogHeader, formatWlogHeader, parseWlogHeader } from "./wlog_header.ts";

const UUID = Uint8Array.from({ length: 16 }, (_, i) => i * 0x11);

Deno.test("buildWlogHeader() matches the spec §4.1 example", () => {
  const block = buildWlogHeader({
    salt: 0x89abcdef,
    pbs: 512,
    uuid: UUID,
    beginLsid: 100n,
    endLsid: 2n ** 64n - 1n,
  });
  assertEquals(
    toHex(block.subarray(0, 56)),
    "0400020000100000134030" + "10efcdab89" + "0002000000020000" + "0011223344556677" +
      "8899aabbccddeeff" + "6400000000000000" + "ffffffffffffffff",
  );
  assert(block.subarray(56).every((b) => b === 0));
  const header = parseWlogHeader(block);
  assertEquals(header.checksum, 0x10304013);
  assertEquals(
    formatWlogHeader(header),
    "wlog_h: ver   2 pbs  512 salt 89abcdef uuid 00112233445566778899aabbccddeeff lsid 100 18446744073709551615",
  );
});

Deno.test("parseWlogHeader() rejects bad checksum, pbs and lsid order", () => {
  const init = { salt: 1, pbs: 512, uuid: UUID, beginLsid: 5n, endLsid: 6n };
  const block = buildWlogHeader(init);
  const bad = block.slice();
  bad[4000] = 1;
  assertThrows(() => parseWlogHeader(bad, 0), ChecksumMismatchError, "wlog header at offset 0");
  assertThrows(
    () => parseWlogHeader(buildWlogHeader({ ...init, pbs: 768 })),
    CorruptDataError,
    "physical_bs",
  );
  assertThrows(
    () => parseWlogHeader(buildWlogHeader({ ...init, endLsid: 5n })),
    CorruptDataError,
    "begin_lsid",
  );
  assertThrows(() => parseWlogHeader(block.subarray(0, 512)), CorruptDataError, "4096");
});
