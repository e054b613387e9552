import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import { MemoryRandomAccess } from "../../io/random_access.ts";
import { BufferedReader, BufferedWriter, MemorySink, MemorySource } from "../../io/stream.ts";
import { LogpackBuilder, WlogWriter } from "../wlog/mod.ts";
import { applyDiff } from "./apply.ts";
import { openWdiff } from "./open.ts";
import { seededRandom, testSeed } from "./mem_diff_testing.ts";
import {
  convertWlogToIndexedWdiff,
  convertWlogToSortedWdiff,
  isAllZero,
  WlogSequenceError,
} from "./wlog_to_wdiff.ts";

/** One generated IO, in log order. */
type Io =
  | { kind: "normal"; offsetLb: number; data: Uint8Array }
  | { kind: "discard"; offsetLb: number; sizeLb: number }
  | { kind: "padding"; sizePb: number };

function randomIo(random: () => number, spaceLb: number): Io {
  const roll = random();
  if (roll < 0.1) return { kind: "padding", sizePb: Math.floor(random() * 3) };
  const sizeLb = 1 + Math.floor(random() * random() * 64);
  const offsetLb = Math.floor(random() * (spaceLb - sizeLb + 1));
  if (roll < 0.3) return { kind: "discard", offsetLb, sizeLb };
  const data = new Uint8Array(sizeLb * 512);
  if (roll < 0.45) return { kind: "normal", offsetLb, data }; // all zero
  for (let i = 0; i < data.length; i += 1 + Math.floor(random() * 700)) {
    data[i] = 1 + Math.floor(random() * 255);
  }
  return { kind: "normal", offsetLb, data };
}

/** Writes a wlog of `ios` (several packs) and returns its bytes and end lsid. */
async function buildWlog(
  ios: readonly Io[],
  pbs: number,
  uuid: Uint8Array,
  beginLsid: bigint,
  random: () => number,
): Promise<{ bytes: Uint8Array; endLsid: bigint }> {
  const sink = new MemorySink();
  const writer = new WlogWriter(new BufferedWriter(sink));
  const salt = 0x1234567;
  await writer.writeHeader({ salt, pbs, uuid, beginLsid, endLsid: 2n ** 64n - 1n });
  let lsid = beginLsid;
  let builder = new LogpackBuilder({ pbs, salt, lsid });
  const add = (io: Io): boolean =>
    io.kind === "normal"
      ? builder.addNormal(io.offsetLb, io.data)
      : io.kind === "discard"
      ? builder.addDiscard(io.offsetLb, io.sizeLb)
      : builder.addPadding(io.sizePb);
  for (const io of ios) {
    if (!builder.isEmpty && random() < 0.1) {
      const pack = builder.seal();
      await writer.writePack(pack);
      lsid = pack.nextLsid;
      builder = new LogpackBuilder({ pbs, salt, lsid });
    }
    if (add(io)) continue;
    if (builder.isEmpty) continue; // a padding that can never fit alone
    const pack = builder.seal();
    await writer.writePack(pack);
    lsid = pack.nextLsid;
    builder = new LogpackBuilder({ pbs, salt, lsid });
    add(io);
  }
  if (!builder.isEmpty) {
    const pack = builder.seal();
    await writer.writePack(pack);
    lsid = pack.nextLsid;
  }
  await writer.close();
  return { bytes: sink.bytes(), endLsid: lsid };
}

/** Direct redo of the IOs, discards zeroed (wlog-redo -z). */
function redoIos(image: Uint8Array, ios: readonly Io[]): void {
  for (const io of ios) {
    if (io.kind === "normal") image.set(io.data, io.offsetLb * 512);
    if (io.kind === "discard") image.fill(0, io.offsetLb * 512, (io.offsetLb + io.sizeLb) * 512);
  }
}

async function applyWdiff(image: Uint8Array, bytes: Uint8Array): Promise<void> {
  const { reader } = await openWdiff(new MemoryRandomAccess(bytes));
  await applyDiff(reader.records(), {
    sizeBytes: image.length,
    write: (offset, data) => Promise.resolve(image.set(data, offset)),
    writeZeroes: (offset, length) => Promise.resolve(void image.fill(0, offset, offset + length)),
  }, { discardPolicy: "zero" });
}

/** `sortedReread`: sorted, reading the data again from the input (`rereadFrom`). */
async function convert(
  bytes: Uint8Array,
  format: "sorted" | "sortedReread" | "indexed",
  maxBlocks: number,
): Promise<Uint8Array> {
  const sink = new MemorySink();
  const fn = format === "indexed" ? convertWlogToIndexedWdiff : convertWlogToSortedWdiff;
  const rereadFrom = {
    readInto: (offset: number, target: Uint8Array) => {
      assert(offset + target.length <= bytes.length, "reread past the input");
      target.set(bytes.subarray(offset, offset + target.length));
    },
  };
  await fn(new BufferedReader(new MemorySource(bytes)), new BufferedWriter(sink), {
    maxBlocks,
    ...(format === "sortedReread" ? { rereadFrom } : {}),
  });
  return sink.bytes();
}

Deno.test("wlog→wdiff (sorted and indexed) then redo equals direct wlog redo (seeded)", async () => {
  const seed = testSeed("wlog to wdiff model");
  const random = seededRandom(seed);
  for (let round = 0; round < 24; round++) {
    const pbs = round % 2 === 0 ? 512 : 4096;
    const spaceLb = 64 + Math.floor(random() * 1500);
    const uuid = new Uint8Array(16).fill(round);
    // One or two concatenated wlogs with the same uuid, the second continuing the first.
    const first = Array.from(
      { length: Math.floor(random() * 80) },
      () => randomIo(random, spaceLb),
    );
    const second = Array.from(
      { length: Math.floor(random() * 40) },
      () => randomIo(random, spaceLb),
    );
    const one = await buildWlog(first, pbs, uuid, 100n, random);
    let input = one.bytes;
    let ios = first;
    if (round % 3 === 0) {
      const two = await buildWlog(second, pbs, uuid, one.endLsid, random);
      input = new Uint8Array(one.bytes.length + two.bytes.length);
      input.set(one.bytes);
      input.set(two.bytes, one.bytes.length);
      ios = [...first, ...second];
    }
    const expected = new Uint8Array(spaceLb * 512).fill(0x5a);
    redoIos(expected, ios);
    for (const format of ["sorted", "sortedReread", "indexed"] as const) {
      for (const maxBlocks of [2048, 8, 0]) {
        const image = new Uint8Array(spaceLb * 512).fill(0x5a);
        const wdiff = await convert(input, format, maxBlocks);
        await applyWdiff(image, wdiff);
        assertEquals(image, expected, `seed ${seed} round ${round} ${format} max ${maxBlocks}`);
        if (format === "sortedReread") {
          const held = await convert(input, "sorted", maxBlocks);
          assertEquals(wdiff, held, `seed ${seed} round ${round} reread bytes, max ${maxBlocks}`);
        }
      }
    }
  }
});

Deno.test("convertWlogToSortedWdiff() rejects a following wlog with another uuid or lsid", async () => {
  const random = seededRandom(1);
  const ios: Io[] = [{ kind: "discard", offsetLb: 0, sizeLb: 8 }];
  const a = await buildWlog(ios, 512, new Uint8Array(16).fill(1), 0n, random);
  const b = await buildWlog(ios, 512, new Uint8Array(16).fill(2), a.endLsid, random);
  const c = await buildWlog(ios, 512, new Uint8Array(16).fill(1), a.endLsid + 1n, random);
  for (const [next, text] of [[b, "uuid differ:"], [c, "lsid mismatch."]] as const) {
    const input = new Uint8Array(a.bytes.length + next.bytes.length);
    input.set(a.bytes);
    input.set(next.bytes, a.bytes.length);
    const error = await assertRejects(() => convert(input, "sorted", 2048), WlogSequenceError);
    assert(error.originalText.startsWith(text), error.originalText);
  }
});

Deno.test("isAllZero() checks every byte at any alignment", () => {
  const bytes = new Uint8Array(1031);
  assert(isAllZero(bytes));
  assert(isAllZero(bytes.subarray(3)));
  bytes[1030] = 1;
  assertEquals(isAllZero(bytes), false);
  assertEquals(isAllZero(bytes.subarray(1)), false);
  bytes[1030] = 0;
  bytes[2] = 1;
  assertEquals(isAllZero(bytes.subarray(1, 5)), false);
});
