import { assertEquals } from "../../testing/assert.ts";
import { CompressionType } from "../../codec/codec.ts";
import { checksum } from "../checksum/checksum.ts";
import { rememberChecksum, storeData } from "./stored_data.ts";

Deno.test("storeData() uses a remembered checksum only for the exact view stored raw", () => {
  const data = new Uint8Array(4096).map((_, i) => (i * 2654435761) >>> 24);
  const salt = 0x12345678;
  // csum(x, 0) = csum(x, salt) + salt (mod 2^32), as the wlog conversion remembers it.
  rememberChecksum(data, checksum(data, salt) + salt);
  const none = { type: CompressionType.none, level: 0 };
  assertEquals(storeData(data, none).checksum, checksum(data, 0));
  // A subarray is another key: it is summed (a wrong remembered value would show).
  rememberChecksum(data, 0);
  const part = data.subarray(0, 512);
  assertEquals(storeData(part, none).checksum, checksum(part, 0));
});

Deno.test("storeData() sums compressed output even when the input's checksum is known", () => {
  const data = new Uint8Array(4096).fill(0x41);
  rememberChecksum(data, 0);
  const stored = storeData(data, { type: CompressionType.snappy, level: 0 });
  assertEquals(stored.compressionType, CompressionType.snappy);
  assertEquals(stored.checksum, checksum(stored.stored, 0));
});
