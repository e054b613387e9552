import { assert, assertEquals, assertThrows } from "../../testing/assert.ts";
import { CorruptDataError } from "../../errors.ts";
import { metaLsidGid } from "../../format/meta/mod.ts";
import { seededPrng } from "../../testing/random.ts";
import {
  decodeQueueFile,
  encodeQueueFile,
  QUEUE_FILE_HEADER_SIZE,
  QUEUE_RECORD_AREA_OFFSET,
} from "./queue_file.ts";

Deno.test("encodeQueueFile() round trips records newest first, empty included", () => {
  const records = [
    metaLsidGid(300n, 9n, { isMergeable: true, timestamp: 1700000002 }),
    metaLsidGid(200n, 5n, { isMergeable: false, timestamp: 1700000001 }),
    metaLsidGid(0n, 0n, { timestamp: 1700000000 }),
  ];
  const bytes = encodeQueueFile({ salt: 0xdeadbeef, records });
  assertEquals(decodeQueueFile(bytes), { salt: 0xdeadbeef, records });
  const empty = encodeQueueFile({ salt: 1, records: [] });
  assertEquals(empty.length, QUEUE_RECORD_AREA_OFFSET + 16);
  assertEquals(decodeQueueFile(empty), { salt: 1, records: [] });
});

Deno.test("decodeQueueFile() uses the second header copy when the first is torn", () => {
  const bytes = encodeQueueFile({ salt: 5, records: [metaLsidGid(1n, 1n)] });
  bytes[3] = bytes[3]! ^ 0xff;
  assertEquals(decodeQueueFile(bytes).records.length, 1);
  bytes[QUEUE_FILE_HEADER_SIZE + 3] = bytes[QUEUE_FILE_HEADER_SIZE + 3]! ^ 0xff;
  assertThrows(() => decodeQueueFile(bytes), CorruptDataError);
});

Deno.test("decodeQueueFile() rejects flipped bytes with CorruptDataError only", () => {
  const prng = seededPrng("queue_file mutation");
  const records = [metaLsidGid(70n, 3n), metaLsidGid(40n, 2n, { isMergeable: true })];
  const valid = encodeQueueFile({ salt: 77, records });
  for (let i = 0; i < 2000; i++) {
    const bytes = valid.slice();
    const index = prng.int(bytes.length);
    bytes[index] = bytes[index]! ^ (1 << prng.int(8));
    try {
      const decoded = decodeQueueFile(bytes);
      assert(decoded.records.length <= 2, "no invented records");
    } catch (error) {
      assert(error instanceof CorruptDataError, `unexpected ${error}`);
    }
  }
});
