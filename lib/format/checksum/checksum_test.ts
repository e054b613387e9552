import { assertEquals } from "../../testing/assert.ts";
import { checksum, checksumFinish, checksumPartial } from "./checksum.ts";

const seq = (n: number, f: (i: number) => number) => new Uint8Array(n).map((_, i) => f(i));

Deno.test("checksum() matches the spec vectors", () => {
  assertEquals(checksum(seq(16, (i) => i), 0), 0xdbdfe3e8);
  assertEquals(checksum(seq(16, (i) => i), 0x12345678), 0xc9ab8d70);
  assertEquals(checksum(new Uint8Array(512), 0), 0);
  assertEquals(checksum(new Uint8Array(512), 0x89abcdef), 0x76543211);
  assertEquals(checksum(new Uint8Array(512).fill(0xff), 0), 0x80);
  assertEquals(checksum(seq(512, (i) => i & 0xff), 0x89abcdef), 0xb6147311);
  assertEquals(checksum(Uint8Array.of(1, 2, 3, 4, 5), 0), 0xfbfcfdfa);
});

Deno.test("checksum() is the same on unaligned views and in chunks", () => {
  const backing = seq(4097, (i) => (i * 131 + 7) & 0xff);
  const unaligned = backing.subarray(1);
  const aligned = unaligned.slice();
  const whole = checksum(aligned, 0x1234);
  assertEquals(checksum(unaligned, 0x1234), whole);
  let sum = 0x1234;
  for (let off = 0; off < 4096; off += 1024) {
    sum = checksumPartial(aligned.subarray(off, off + 1024), sum);
  }
  assertEquals(checksumFinish(sum), whole);
});

Deno.test("checksum() stability over many fixed inputs", () => {
  let combined = 0;
  for (let n = 0; n < 300; n++) {
    const bytes = seq(n, (i) => (i * 37 + n) & 0xff);
    combined = (combined * 31 + checksum(bytes, n * 2654435761 >>> 0)) >>> 0;
  }
  assertEquals(combined, 0x22faed5e);
});
