import { ChecksumMismatchError, CorruptDataError } from "../../errors.ts";
import { assert, assertEquals, assertThrows, toHex } from "../../testing/assert.ts";
import {
  buildSuperSector,
  formatLdevSuper,
  lsidToByteOffset,
  lsidToPbOffset,
  parseSuperSector,
  ringBufferOffsetPb,
  superSectorPbs,
} from "./super_sector.ts";

const UUID = Uint8Array.from({ length: 16 }, (_, i) => i * 0x11);

function example(pbs: number) {
  return formatLdevSuper({
    ldevLb: 131072n,
    ddevLb: 2097152n,
    pbs,
    salt: 0x89abcdef,
    uuid: UUID,
    name: "vol0",
  });
}

Deno.test("buildSuperSector() matches the format-ldev example (spec §2.4)", () => {
  const init = example(512);
  assertEquals(init.ringBufferSize, 131062n);
  const block = buildSuperSector(init);
  assertEquals(block.length, 512);
  const expected = [
    "010002000ce1a1df0002000000020000",
    "00000000efcdab890011223344556677",
    "8899aabbccddeeff766f6c3000000000",
    "00000000000000000000000000000000",
    "0000000000000000f6ff010000000000",
    "00000000000000000000000000000000",
    "00002000000000000000000000000000",
  ].join("");
  assertEquals(toHex(block.subarray(0, 112)), expected);
  assert(block.subarray(112).every((b) => b === 0));
  const sup = parseSuperSector(block);
  assertEquals(sup.name, "vol0");
  assertEquals(sup.checksum, 0xdfa1e10c);
  assertEquals(superSectorPbs(block), 512);
});

Deno.test("buildSuperSector() with pbs 4096 (spec §2.4)", () => {
  const init = example(4096);
  assertEquals(init.ringBufferSize, 16381n);
  const sup = parseSuperSector(buildSuperSector(init), { expectedPbs: 4096 });
  assertEquals(sup.checksum, 0xdfa39305);
});

Deno.test("parseSuperSector() verifies the checksum and pbs", () => {
  const block = buildSuperSector(example(512));
  const bad = block.slice();
  bad[200] = 1;
  assertThrows(() => parseSuperSector(bad), ChecksumMismatchError, "super sector at offset 4096");
  assertThrows(
    () => parseSuperSector(block, { expectedPbs: 4096 }),
    CorruptDataError,
    "physical_bs",
  );
  const noNul = block.slice();
  noNul.fill(0x41, 40, 72);
  assertThrows(() => parseSuperSector(noNul), CorruptDataError, "NUL");
});

Deno.test("ringBufferOffsetPb() and lsidToPbOffset() follow the byte map", () => {
  assertEquals([512, 1024, 2048, 4096].map((pbs) => ringBufferOffsetPb(pbs)), [10, 6, 4, 3]);
  assertEquals(lsidToPbOffset(29n, { pbs: 512, ringBufferSize: 16n }), 23n);
  assertEquals(lsidToPbOffset(32n, { pbs: 512, ringBufferSize: 16n }), 10n);
  assertEquals(lsidToByteOffset(0n, { pbs: 4096, ringBufferSize: 5n }), 12288n);
  assertEquals(
    lsidToPbOffset(2n ** 64n - 2n, { pbs: 512, ringBufferSize: 7n, metadataSize: 1 }),
    11n + (2n ** 64n - 2n) % 7n,
  );
});
