/**
 * Test helpers of the diff algorithms (tests only): a seeded PRNG, stamped records whose data
 * names their origin, and a plain Map<block, value> model of a diff (§6.2).
 *
 * @module
 */
import { assert, assertEquals } from "../../testing/assert.ts";
import { Prng, seededPrng } from "../../testing/random.ts";
import { type DiffKind, type DiffRecord, recordEnd } from "./diff_record.ts";

/** Uniform numbers in [0, 1) from {@link Prng} seeded with `seed`, as a plain function. */
export function seededRandom(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.next();
}

/** The seed of a property test: SEED from the environment, else a fresh one (printed). */
export function testSeed(name: string): number {
  return seededPrng(name).seed;
}

/** A record whose every block is stamped with (id, address): bytes 0-3 id, 4-7 address. */
export function stampedRecord(
  id: number,
  ioAddress: number,
  ioBlocks: number,
  kind: DiffKind,
): DiffRecord {
  if (kind !== "normal") return { ioAddress, ioBlocks, kind, data: null };
  const data = new Uint8Array(ioBlocks * 512);
  const view = new DataView(data.buffer);
  for (let i = 0; i < ioBlocks; i++) {
    view.setUint32(i * 512, id, true);
    view.setUint32(i * 512 + 4, ioAddress + i, true);
    data.fill(id & 0xff, i * 512 + 8, (i + 1) * 512);
  }
  return { ioAddress, ioBlocks, kind, data };
}

/** One block of the plain model: kind, stamp id (normal only), and the chunk it came from. */
export interface ModelBlock {
  kind: DiffKind;
  id: number;
  chunk: string;
}

/** Inserts into a plain Map<block, value> model, as §6.2 defines the outcome. */
export function modelInsert(
  model: Map<number, ModelBlock>,
  record: DiffRecord,
  id: number,
  maxBlocks: number,
) {
  for (let b = record.ioAddress; b < recordEnd(record); b++) {
    const chunkIndex = maxBlocks === 0 ? 0 : Math.floor((b - record.ioAddress) / maxBlocks);
    model.set(b, { kind: record.kind, id, chunk: `${id}/${chunkIndex}` });
  }
}

/** Checks records against the model: same blocks, kinds, data; maximal runs of one chunk. */
export function checkAgainstModel(
  records: readonly DiffRecord[],
  model: Map<number, ModelBlock>,
  label: string,
): void {
  let previousEnd = -1;
  let previousChunk = "";
  let blockCount = 0;
  for (const record of records) {
    assert(record.ioAddress >= previousEnd, `${label}: records overlap at ${record.ioAddress}`);
    let chunk = "";
    for (let b = record.ioAddress; b < recordEnd(record); b++) {
      const expected = model.get(b);
      assert(expected !== undefined, `${label}: block ${b} should not be in the diff`);
      assertEquals(record.kind, expected.kind, `${label}: kind of block ${b}`);
      if (b === record.ioAddress) chunk = expected.chunk;
      assertEquals(expected.chunk, chunk, `${label}: record at ${record.ioAddress} spans chunks`);
      if (record.kind === "normal") {
        const view = new DataView(record.data!.buffer, record.data!.byteOffset);
        const offset = (b - record.ioAddress) * 512;
        assertEquals(view.getUint32(offset, true), expected.id, `${label}: data id of ${b}`);
        assertEquals(view.getUint32(offset + 4, true), b, `${label}: data address of ${b}`);
      }
      blockCount++;
    }
    assert(
      !(record.ioAddress === previousEnd && chunk === previousChunk),
      `${label}: run at ${record.ioAddress} is not maximal`,
    );
    previousEnd = recordEnd(record);
    previousChunk = chunk;
  }
  assertEquals(blockCount, model.size, `${label}: block count`);
}

/** A random record: mostly small, sometimes long; kind weighted towards normal. */
export function randomRecord(
  random: () => number,
  id: number,
  spaceLb: number,
  ioLbMax: number,
): DiffRecord {
  const ioBlocks = 1 + Math.floor(random() * random() * Math.min(ioLbMax, spaceLb));
  const ioAddress = Math.floor(random() * (spaceLb - ioBlocks + 1));
  const roll = random();
  const kind: DiffKind = roll < 0.6 ? "normal" : roll < 0.8 ? "allZero" : "discard";
  return stampedRecord(id, ioAddress, ioBlocks, kind);
}
