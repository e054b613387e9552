import { assertEquals } from "../../testing/assert.ts";
import { MemoryRandomAccess } from "../../io/random_access.ts";
import type { DiffRecord } from "./diff_record.ts";
import { MemDiff } from "./mem_diff.ts";
import { randomRecord, seededRandom, testSeed } from "./mem_diff_testing.ts";
import { virtualFullChunks, virtualFullImage } from "./virtual_full.ts";

async function* stream(records: readonly DiffRecord[]): AsyncGenerator<DiffRecord> {
  yield* records;
}

async function image(
  base: Uint8Array,
  records: readonly DiffRecord[],
  chunkSize: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(base.length);
  let offset = 0;
  for await (
    const chunk of virtualFullImage(new MemoryRandomAccess(base), stream(records), { chunkSize })
  ) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  assertEquals(offset, base.length);
  return out;
}

Deno.test("virtualFullImage() equals the base with records applied, any chunk size (seeded)", async () => {
  const seed = testSeed("virtualFullImage model");
  const random = seededRandom(seed);
  for (let round = 0; round < 30; round++) {
    const spaceLb = 16 + Math.floor(random() * 300);
    const base = new Uint8Array(spaceLb * 512);
    for (let i = 0; i < base.length; i += 97) base[i] = (i >> 5) & 0xff;
    const diff = new MemDiff();
    const count = Math.floor(random() * 40);
    for (let id = 1; id <= count; id++) diff.insert(randomRecord(random, id, spaceLb, 40));
    const records = [...diff.records()];
    const expected = base.slice();
    for (const r of records) {
      if (r.data !== null) expected.set(r.data, r.ioAddress * 512);
      else expected.fill(0, r.ioAddress * 512, (r.ioAddress + r.ioBlocks) * 512);
    }
    for (const chunkSize of [512, 1536, 4096, 1 << 20, 1000]) {
      assertEquals(await image(base, records, chunkSize), expected, `seed ${seed} round ${round}`);
    }
  }
});

Deno.test("virtualFullImage() clips records past the base end", async () => {
  const base = new Uint8Array(4 * 512).fill(9);
  const records: DiffRecord[] = [{ ioAddress: 3, ioBlocks: 100, kind: "discard", data: null }];
  const out = await image(base, records, 1024);
  assertEquals(out.subarray(0, 1536).every((b) => b === 9), true);
  assertEquals(out.subarray(1536).every((b) => b === 0), true);
});

Deno.test("virtualFullChunks() over a hole base yields record data and zero pieces (seeded)", async () => {
  const seed = testSeed("virtualFullChunks hole");
  const random = seededRandom(seed);
  for (let round = 0; round < 30; round++) {
    const spaceLb = 16 + Math.floor(random() * 300);
    const zeros = new Uint8Array(spaceLb * 512);
    // Half of the base is a hole (zero, reported so), half is data that happens to be zero.
    const holeEnd = Math.floor(random() * spaceLb) * 512;
    const base = {
      size: zeros.length,
      readAt: (offset: number, length: number) =>
        Promise.resolve(zeros.slice(offset, offset + length)),
      isZero: (offset: number, length: number) => offset + length <= holeEnd,
    };
    const diff = new MemDiff();
    const count = Math.floor(random() * 40);
    for (let id = 1; id <= count; id++) diff.insert(randomRecord(random, id, spaceLb, 40));
    const records = [...diff.records()];
    const expected = await image(zeros, records, 4096);
    for (const chunkSize of [512, 1536, 4096, 1000]) {
      const out = new Uint8Array(zeros.length);
      let offset = 0;
      for await (const piece of virtualFullChunks(base, stream(records), { chunkSize })) {
        assertEquals(piece.offset, offset, `seed ${seed} round ${round}: pieces are contiguous`);
        assertEquals(piece.length > 0 && piece.length <= chunkSize, true);
        if (piece.data !== null) out.set(piece.data, offset);
        offset += piece.length;
      }
      assertEquals(offset, zeros.length);
      assertEquals(out, expected, `seed ${seed} round ${round} chunk ${chunkSize}`);
      const joined = new Uint8Array(zeros.length);
      let at = 0;
      for await (const chunk of virtualFullImage(base, stream(records), { chunkSize })) {
        assertEquals(chunk.length, Math.min(chunkSize, zeros.length - at));
        joined.set(chunk, at);
        at += chunk.length;
      }
      assertEquals(joined, expected);
    }
  }
});
