/**
 * Property tests of the wlog format: random packs (all pbs, padding, discards, ring wraps,
 * lsids near 2^64) round-trip through the builder, writer and reader; a short mutation
 * pass. Prints the seed; SEED=n replays.
 */
import { BufferedReader, BufferedWriter, MemorySink, MemorySource } from "../../io/stream.ts";
import { assert, assertEquals, VECTORS_DIR } from "../../testing/assert.ts";
import {
  runMutations,
  sampleOf,
  testSeed,
  vectorSamples,
} from "../../../tests/fuzz/wlog_mutation.ts";
import { isDiscardRecord, isNormalRecord, recordPbCount } from "./logpack.ts";
import { decodeLogpackHeader } from "./logpack.ts";
import { type Logpack, LogpackBuilder } from "./logpack_builder.ts";
import { Mt19937 } from "./mt19937.ts";
import { buildSuperSector, parseSuperSector, pbUntilRingEnd } from "./super_sector.ts";
import { buildWlogHeader, parseWlogHeader } from "./wlog_header.ts";
import { WlogReader } from "./wlog_reader.ts";
import { WlogWriter } from "./wlog_writer.ts";

const SEED = testSeed();
// A test, not library code: print the seed so SEED=n replays a failure.
// deno-lint-ignore no-console
console.log(`wlog property tests seed=${SEED}`);

function below(random: Mt19937, n: number): number {
  return random.next32() % n;
}

function randomBytes(random: Mt19937, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = random.next32() & 0xff;
  return bytes;
}

/** Builds packs from random IOs, like the driver, until `ioCount` IOs are placed. */
function randomPacks(
  random: Mt19937,
  options: { pbs: number; salt: number; lsid: bigint; ringBufferSize?: bigint; ioCount: number },
): Logpack[] {
  const packs: Logpack[] = [];
  const ring = options.ringBufferSize === undefined
    ? {}
    : { ringBufferSize: options.ringBufferSize };
  let builder = new LogpackBuilder({
    pbs: options.pbs,
    salt: options.salt,
    lsid: options.lsid,
    ...ring,
  });
  for (let i = 0; i < options.ioCount; i++) {
    const kind = below(random, 10);
    const offset = below(random, 1 << 20);
    for (let attempt = 0;; attempt++) {
      assert(attempt < 2, "an IO fits in an empty pack");
      let added: boolean;
      if (kind < 3) added = builder.addDiscard(offset, 1 + below(random, 1 << 16));
      else if (kind === 3 && ring.ringBufferSize === undefined) {
        added = builder.addPadding(below(random, 4));
      } else {
        const sizeLb = 1 + (below(random, 8) === 0 ? below(random, 300) : below(random, 16));
        added = builder.addNormal(offset, randomBytes(random, sizeLb * 512));
      }
      if (added) break;
      packs.push(builder.seal());
      builder = new LogpackBuilder({
        pbs: options.pbs,
        salt: options.salt,
        lsid: builder.nextLsid,
        ...ring,
      });
    }
  }
  if (!builder.isEmpty) packs.push(builder.seal());
  return packs;
}

Deno.test("LogpackBuilder packs round-trip through WlogWriter and WlogReader", async () => {
  const random = new Mt19937(SEED);
  for (let round = 0; round < 40; round++) {
    const pbs = [512, 1024, 2048, 4096][below(random, 4)]!;
    const salt = random.next32();
    const lsid = below(random, 3) === 0
      ? (1n << 64n) - 100000n - BigInt(below(random, 1000))
      : BigInt(random.next32());
    const withRing = below(random, 2) === 0;
    const ringBufferSize = withRing ? BigInt(301 + below(random, 300)) : undefined;
    const packs = randomPacks(random, {
      pbs,
      salt,
      lsid,
      ioCount: 1 + below(random, 60),
      ...(ringBufferSize === undefined ? {} : { ringBufferSize }),
    });
    const context = `seed=${SEED} round ${round} pbs ${pbs} ring ${ringBufferSize}`;
    for (const pack of packs) {
      assertEquals(decodeLogpackHeader(pack.block, { pbs }), pack.header, context);
      let total = 0;
      for (const { record } of pack.ios) {
        total += recordPbCount(record, pbs);
        if (ringBufferSize !== undefined && isNormalRecord(record)) {
          // One IO's payload never crosses the ring end.
          assert(
            BigInt(recordPbCount(record, pbs)) <= pbUntilRingEnd(record.lsid, ringBufferSize),
            context,
          );
        }
        if (isDiscardRecord(record)) assert(record.lsid <= pack.nextLsid, context);
      }
      assertEquals(total, pack.header.totalIoSize, context);
      assert(pack.header.nPadding <= 1, context);
    }
    const sink = new MemorySink();
    const writer = new WlogWriter(new BufferedWriter(sink, 4096));
    await writer.writeHeader({
      salt,
      pbs,
      uuid: randomBytes(random, 16),
      beginLsid: lsid,
      endLsid: (1n << 64n) - 1n,
    });
    for (const pack of packs) await writer.writePack(pack);
    await writer.close();
    const bytes = sink.bytes();
    const wlog = new WlogReader(new BufferedReader(new MemorySource(bytes), 1000));
    const header = await wlog.readHeader();
    assertEquals(header?.pbs, pbs, context);
    const read: Logpack[] = [];
    for await (const pack of wlog.packs()) read.push(pack);
    assertEquals(wlog.stop?.reason, "end", context);
    assertEquals(read.length, packs.length, context);
    read.forEach((pack, i) => {
      assertEquals(pack.header, packs[i]!.header, context);
      assertEquals(pack.block, packs[i]!.block, context);
      assertEquals(pack.ios.map((io) => io.data), packs[i]!.ios.map((io) => io.data), context);
      assertEquals(
        pack.ios.map((io) => io.payload),
        packs[i]!.ios.map((io) => io.payload),
        context,
      );
    });
    // A mutation pass over this generated wlog too.
    await runMutations([await sampleOf(context, bytes)], SEED + round, { maxCount: 30 });
  }
});

Deno.test("super sector and wlog header round-trip random fields", () => {
  const random = new Mt19937(SEED ^ 0x5a5a);
  for (let i = 0; i < 200; i++) {
    const pbs = [512, 1024, 2048, 4096][below(random, 4)]!;
    const oldestLsid = random.next64() >> 1n;
    const init = {
      pbs,
      metadataSize: 0,
      salt: random.next32(),
      uuid: randomBytes(random, 16),
      name: "v" + String(random.next32()),
      ringBufferSize: 1n + (random.next64() >> 8n),
      oldestLsid,
      writtenLsid: oldestLsid + BigInt(random.next32()),
      deviceSize: random.next64(),
    };
    const sup = parseSuperSector(buildSuperSector(init), { expectedPbs: pbs });
    assertEquals({ ...sup, checksum: 0, sectorType: 0, version: 0, logicalBs: 0 }, {
      ...init,
      checksum: 0,
      sectorType: 0,
      version: 0,
      logicalBs: 0,
    });
    const headerInit = {
      salt: random.next32(),
      pbs,
      uuid: randomBytes(random, 16),
      beginLsid: random.next64() >> 1n,
      endLsid: (1n << 64n) - 1n - BigInt(below(random, 2)),
    };
    const header = parseWlogHeader(buildWlogHeader(headerInit));
    assertEquals(
      {
        salt: header.salt,
        pbs: header.pbs,
        uuid: header.uuid,
        beginLsid: header.beginLsid,
        endLsid: header.endLsid,
      },
      headerInit,
    );
  }
});

Deno.test("wlog parsers survive mutated vectors (short pass)", async () => {
  const samples = await vectorSamples(VECTORS_DIR);
  const count = await runMutations(samples, SEED, { maxCount: 1500 });
  assertEquals(count, 1500);
});
