import { ChecksumMismatchError, CorruptDataError } from "../../errors.ts";
import { assert, assertEquals, assertThrows, toHex } from "../../testing/assert.ts";
import { checksum } from "../checksum/checksum.ts";
import {
  buildEndBlock,
  checkLogpackHeader,
  decodeLogpackHeader,
  encodeLogpackHeader,
  inspectLogpackHeader,
  maxRecordsInPack,
  shrinkLogpackHeader,
} from "./logpack.ts";
import { LogpackBuilder } from "./logpack_builder.ts";

function hexDump(text: string): string {
  return text.split("\n").map((line) => line.replace(/^[0-9a-f]+:/, "").replaceAll(" ", ""))
    .join("");
}

const SALT = 0x89abcdef;

Deno.test("LogpackBuilder pads before the ring end (spec §3.4 example)", () => {
  const builder = new LogpackBuilder({ pbs: 512, salt: SALT, lsid: 29n, ringBufferSize: 16n });
  assert(builder.addNormal(0, new Uint8Array(512).fill(0x11)));
  assert(builder.addNormal(2048, new Uint8Array(2048).fill(0x22)));
  const pack = builder.seal();
  assertEquals(pack.header.checksum, 0x567191de);
  assertEquals(pack.header.records.map((r) => r.checksum), [0xedcba991, 0, 0x320fee11]);
  assertEquals(pack.nextLsid, 36n);
  const expected = hexDump(`0000: de 91 71 56 03 00 06 00 1d 00 00 00 00 00 00 00
0010: 03 00 01 00 00 00 00 00 91 a9 cb ed 01 00 00 00
0020: 00 00 00 00 00 00 00 00 01 00 00 00 01 00 00 00
0030: 1e 00 00 00 00 00 00 00 00 00 00 00 03 00 00 00
0040: 00 00 00 00 00 00 00 00 01 00 00 00 02 00 00 00
0050: 1f 00 00 00 00 00 00 00 11 ee 0f 32 01 00 00 00
0060: 00 08 00 00 00 00 00 00 04 00 00 00 03 00 00 00
0070: 20 00 00 00 00 00 00 00`);
  assertEquals(toHex(pack.block.subarray(0, 120)), expected);
  assert(pack.block.subarray(120).every((b) => b === 0));
});

Deno.test("LogpackBuilder gives a discard the next data lsid (spec §3.4 second example)", () => {
  const builder = new LogpackBuilder({ pbs: 512, salt: SALT, lsid: 100n });
  assert(builder.addNormal(8, new Uint8Array(512).fill(0xab)));
  assert(builder.addDiscard(1000, 64));
  assert(builder.addNormal(16, new Uint8Array(1024).map((_, i) => (i * 7) & 0xff)));
  const pack = builder.seal();
  assertEquals(pack.header.checksum, 0xe0001b85);
  assertEquals(pack.nextLsid, 104n);
  const expected = hexDump(`0000: 85 1b 00 e0 03 00 03 00 64 00 00 00 00 00 00 00
0010: 03 00 00 00 00 00 00 00 91 5c 7e a0 01 00 00 00
0020: 08 00 00 00 00 00 00 00 01 00 00 00 01 00 00 00
0030: 65 00 00 00 00 00 00 00 00 00 00 00 05 00 00 00
0040: e8 03 00 00 00 00 00 00 40 00 00 00 02 00 00 00
0050: 66 00 00 00 00 00 00 00 11 b4 d2 f5 01 00 00 00
0060: 10 00 00 00 00 00 00 00 02 00 00 00 02 00 00 00
0070: 66 00 00 00 00 00 00 00`);
  assertEquals(toHex(pack.block.subarray(0, 120)), expected);
});

Deno.test("buildEndBlock() matches the spec example", () => {
  const block = buildEndBlock(512, SALT);
  assertEquals(toHex(block.subarray(0, 16)), "1032547603000000ffffffffffffffff");
  assert(block.subarray(16).every((b) => b === 0));
  assertEquals(inspectLogpackHeader(block, { pbs: 512, salt: SALT, expectedLsid: 0n }).kind, "end");
});

Deno.test("checkLogpackHeader() rejects a bad checksum, lsid and sector type", () => {
  const builder = new LogpackBuilder({ pbs: 512, salt: SALT, lsid: 7n });
  builder.addNormal(1, new Uint8Array(512));
  const block = builder.seal().block;
  checkLogpackHeader(block, { pbs: 512, salt: SALT, expectedLsid: 7n });
  assertThrows(
    () => checkLogpackHeader(block, { pbs: 512, salt: 1, offset: 4096 }),
    ChecksumMismatchError,
    "at offset 4096",
  );
  assertThrows(
    () => checkLogpackHeader(block, { pbs: 512, salt: SALT, expectedLsid: 8n }),
    CorruptDataError,
    "logpack_lsid is 7, expected 8",
  );
  const bad = block.slice();
  bad[4] = 9;
  assertThrows(
    () => checkLogpackHeader(bad, { pbs: 512, salt: SALT }),
    CorruptDataError,
    "sector_type",
  );
});

Deno.test("decodeLogpackHeader() refuses more records than fit", () => {
  const block = new Uint8Array(512);
  block[16] = 16;
  assertThrows(
    () => decodeLogpackHeader(block, { pbs: 512, offset: 0 }),
    CorruptDataError,
    "n_records",
  );
  assertEquals(maxRecordsInPack(512), 15);
  assertEquals(maxRecordsInPack(4096), 127);
});

Deno.test("shrinkLogpackHeader() recomputes total_io_size and n_padding", () => {
  const builder = new LogpackBuilder({ pbs: 512, salt: SALT, lsid: 29n, ringBufferSize: 16n });
  builder.addNormal(0, new Uint8Array(512));
  builder.addNormal(2048, new Uint8Array(2048));
  const header = builder.seal().header;
  const shrunk = shrinkLogpackHeader(header, 2, 512);
  assertEquals([shrunk.nRecords, shrunk.totalIoSize, shrunk.nPadding], [2, 2, 1]);
  const one = shrinkLogpackHeader(header, 1, 512);
  assertEquals([one.nRecords, one.totalIoSize, one.nPadding], [1, 1, 0]);
  const block = encodeLogpackHeader(one, { pbs: 512, salt: SALT });
  assertEquals(checksum(block, SALT), 0);
  assertEquals(checkLogpackHeader(block, { pbs: 512, salt: SALT }).records, one.records);
});

Deno.test("LogpackBuilder closes a pack when the header is full", () => {
  const builder = new LogpackBuilder({ pbs: 512, salt: 0, lsid: 0n });
  for (let i = 0; i < 15; i++) assert(builder.addDiscard(i, 1));
  assert(!builder.addDiscard(99, 1));
  assert(!builder.addNormal(99, new Uint8Array(512)));
  assertEquals(builder.seal().nextLsid, 1n);
});

Deno.test("LogpackBuilder ends a pack with padding when the ring end leaves no slot", () => {
  const builder = new LogpackBuilder({ pbs: 512, salt: 0, lsid: 0n, ringBufferSize: 20n });
  for (let i = 0; i < 13; i++) assert(builder.addDiscard(i, 1));
  // data starts at lsid 1 (room 19): 17 pb fit
  assert(builder.addNormal(0, new Uint8Array(512 * 17)));
  // next data at lsid 18: room 2 < 4 -> padding takes the 15th slot, the normal IO must wait
  assert(!builder.addNormal(0, new Uint8Array(2048)));
  const pack = builder.seal();
  assertEquals([pack.header.nRecords, pack.header.nPadding, pack.nextLsid], [15, 1, 20n]);
});
