import { MemoryDevice } from "../../device/block/mod.ts";
import { applyDiff, ApplyRangeError, type DiscardPolicy } from "../../format/wdiff/apply.ts";
import type { DiffRecord } from "../../format/wdiff/diff_record.ts";
import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import { seededPrng } from "../../testing/random.ts";
import type { DataExtent } from "../../archive-backend/mod.ts";
import { writeRestoredImage } from "./restore_image.ts";

const LB = 512;
/** Not a multiple of the 4 MiB restore chunk: the last chunk is short. */
const SIZE = 24 * 1024 * 1024 + 3 * LB;

async function* fromArray(records: readonly DiffRecord[]): AsyncGenerator<DiffRecord> {
  yield* records;
}

/** A base with random data in a few extents and holes (zeroes) elsewhere. */
async function makeBase(seedName: string) {
  const prng = seededPrng(seedName);
  const base = new MemoryDevice({ sizeBytes: SIZE });
  const extents: DataExtent[] = [];
  for (let offset = 0; offset < SIZE;) {
    const length = Math.min((1 + prng.int(3000)) * LB, SIZE - offset);
    if (prng.chance(0.5)) {
      await base.write(offset, prng.bytes(length));
      extents.push({ offsetBytes: offset, lengthBytes: length });
    }
    offset += length + prng.int(4000) * LB;
  }
  return { base, extents, prng };
}

/** Sorted, non-overlapping records of every kind, some across chunk boundaries. */
function makeRecords(prng: ReturnType<typeof seededPrng>): DiffRecord[] {
  const records: DiffRecord[] = [];
  const kinds = ["normal", "allZero", "discard"] as const;
  for (let address = prng.int(64); address < SIZE / LB;) {
    const blocks = Math.min(1 + prng.int(2048), SIZE / LB - address);
    const kind = kinds[prng.int(3)]!;
    records.push({
      ioAddress: address,
      ioBlocks: blocks,
      kind,
      data: kind === "normal" ? prng.bytes(blocks * LB) : null,
    });
    address += blocks + prng.int(1500);
  }
  return records;
}

async function contents(device: MemoryDevice): Promise<Uint8Array> {
  return await device.read(0, device.sizeBytes);
}

Deno.test("writeRestoredImage() equals applyDiff() onto a copy of the base, every policy", async () => {
  const { base, extents, prng } = await makeBase("writeRestoredImage");
  const records = makeRecords(prng);
  assert(records.some((r) => r.kind === "discard") && records.length > 10, "varied records");
  for (const policy of ["ignore", "zero", "passdown"] as DiscardPolicy[]) {
    const expected = new MemoryDevice({ sizeBytes: SIZE });
    await expected.write(0, await contents(base));
    await applyDiff(fromArray(records), expected, { discardPolicy: policy });
    for (const baseExtents of [extents, undefined]) {
      const target = new MemoryDevice({ sizeBytes: SIZE, alignmentBytes: LB });
      await writeRestoredImage(base, fromArray(records), target, {
        discardPolicy: policy,
        baseExtents,
        checkAbort: () => {},
      });
      const what = `policy ${policy}, extents ${baseExtents === undefined ? "unknown" : "known"}`;
      const actual = await contents(target);
      const wanted = await contents(expected);
      let firstDifference = -1;
      for (let i = 0; i < SIZE && firstDifference < 0; i++) {
        if (actual[i] !== wanted[i]) firstDifference = i;
      }
      assertEquals(firstDifference, -1, `${what}: first difference at byte`);
    }
  }
});

Deno.test("writeRestoredImage() rejects a record past the end and stops on abort", async () => {
  const { base } = await makeBase("writeRestoredImage errors");
  const past: DiffRecord = { ioAddress: SIZE / LB - 1, ioBlocks: 2, kind: "allZero", data: null };
  await assertRejects(
    () =>
      writeRestoredImage(base, fromArray([past]), new MemoryDevice({ sizeBytes: SIZE }), {
        discardPolicy: "zero",
        checkAbort: () => {},
      }),
    ApplyRangeError,
  );
  let chunks = 0;
  await assertRejects(
    () =>
      writeRestoredImage(base, fromArray([]), new MemoryDevice({ sizeBytes: SIZE }), {
        discardPolicy: "zero",
        checkAbort: () => {
          if (++chunks === 3) throw new Error("force stopped");
        },
      }),
    Error,
    "force stopped",
  );
});
