/**
 * Review of the four-lane checksum (lib/format/checksum/checksum.ts, commit 0fbb283): equal to
 * a plain word-by-word reference for any length, byte offset (aligned or not), salt, and for
 * chained partial sums, including words whose sum wraps many times.
 */
import { checksum, checksumFinish, checksumPartial } from "../../lib/format/checksum/checksum.ts";
import { assertEquals } from "../../lib/testing/assert.ts";
import { seededPrng } from "../../lib/testing/random.ts";

function reference(bytes: Uint8Array, salt: number): number {
  let sum = BigInt(salt >>> 0);
  for (let i = 0; i < bytes.length; i += 4) {
    let word = 0n;
    for (let k = 0; k < 4 && i + k < bytes.length; k++) {
      word |= BigInt(bytes[i + k]!) << BigInt(8 * k);
    }
    sum += word;
  }
  return Number((-sum) & 0xffffffffn);
}

Deno.test("review: checksum() equals the word-by-word reference", () => {
  const prng = seededPrng("review checksum");
  const buffer = prng.bytes(70_000);
  for (let round = 0; round < 400; round++) {
    const start = prng.int(64);
    const length = prng.chance(0.5) ? prng.int(40) : prng.int(buffer.length - start);
    const bytes = buffer.subarray(start, start + length);
    if (prng.chance(0.2)) bytes.fill(0xff); // sums that wrap on every word
    const salt = prng.chance(0.5) ? prng.u32() : 0;
    assertEquals(checksum(bytes, salt), reference(bytes, salt), `start ${start} length ${length}`);
    // Chained: every chunk but the last a multiple of 4 long.
    const cut = Math.floor(prng.int(length + 1) / 4) * 4;
    const chained = checksumFinish(
      checksumPartial(bytes.subarray(cut), checksumPartial(bytes.subarray(0, cut), salt)),
    );
    assertEquals(chained, reference(bytes, salt), `chained at ${cut}`);
  }
});
