import { CorruptDataError } from "../../errors.ts";
import { assertEquals, assertThrows } from "../../testing/assert.ts";
import { createDiffFileName, parseDiffFileName } from "./diff_file_name.ts";
import { metaDiff } from "./meta_diff.ts";
import { GID_NONE, metaSnap } from "./meta_snap.ts";
import { seededPrng } from "../../testing/random.ts";

/** Uniform [0, 1) numbers from the shared seeded generator (prints the seed; SEED=n replays). */
function seededRandom(name: string): () => number {
  const prng = seededPrng(name);
  return () => prng.next();
}

const TS = 1388631845;

Deno.test("createDiffFileName() matches the §11 examples", () => {
  const s = (b: bigint, e = b) => metaSnap(b, e);
  assertEquals(
    createDiffFileName(metaDiff(s(5n), s(10n), { isMergeable: true, timestamp: TS })),
    "20140102030405-M--5-10.wdiff",
  );
  assertEquals(
    createDiffFileName(metaDiff(s(0n, 7n), s(8n, 12n), { timestamp: TS })),
    "20140102030405----0-7-8-12.wdiff",
  );
  assertEquals(
    createDiffFileName(
      metaDiff(s(3n), s(9n), { isMergeable: true, isCompDiff: true, timestamp: TS }),
    ),
    "20140102030405-MC-3-9.wdiff",
  );
});

Deno.test("parseDiffFileName() accepts non-canonical names as the original does", () => {
  const d = parseDiffFileName("20140102030405-MC-0005-010.wdiff");
  assertEquals(
    d,
    metaDiff(metaSnap(5n), metaSnap(10n), { isMergeable: true, isCompDiff: true, timestamp: TS }),
  );
  assertEquals(createDiffFileName(d), "20140102030405-MC-5-10.wdiff");
  const flags = parseDiffFileName("20140102030405-xy-5-10.wdiff");
  assertEquals([flags.isMergeable, flags.isCompDiff], [false, false]);
  const four = parseDiffFileName("20140102030405-M--5-5-10-10.wdiff");
  assertEquals(createDiffFileName(four), "20140102030405-M--5-10.wdiff");
  const more = parseDiffFileName("20140102030405-M--1-2-3-4-x.wdiff");
  assertEquals([more.snapB, more.snapE], [metaSnap(1n, 2n), metaSnap(3n, 4n)]);
  assertEquals(parseDiffFileName("20140102030405-M--5-10.wdiff.tmp").snapE, metaSnap(10n));
  assertEquals(parseDiffFileName(`20140102030405-M--0-${GID_NONE}.wdiff`).snapE.gidB, GID_NONE);
});

Deno.test("parseDiffFileName() rejects bad names with CorruptDataError", () => {
  const bad = [
    ["20140102030405-M--5-1.wdif", "too short name"],
    ["20140102030405-M--5-6-7.wdiff", "bad number of gids 3"],
    ["20140102030405-M--+5-10.wdiff", "bad gid"],
    ["20140102030405-M--5-x10.wdiff", "bad gid"],
    ["20140102030405_M--5-10.wdiff", "bad separator"],
    ["20140102030405-MC_5-10.wdiff", "bad separator"],
    ["20141302030405-M--5-10.wdiff", "mon must be between 1 and 12."],
    ["2014010203040x-M--5-10.wdiff", "invalid time string."],
    ["20140102030405-M--5-10.wdifx", "no .wdiff suffix"],
    ["20140102030405-M--10-5.wdiff", "snapB.gidB 10 >= snapE.gidB 5"],
    ["20140102030405-M--4-3-5-6.wdiff", "snapB gidB 4 > gidE 3"],
    ["20140102030405-M--1-5-3-4.wdiff", "snapB.gidE 5 > snapE.gidE 4"],
    ["20140102030405-M--0-18446744073709551616.wdiff", "over 2^64-1"],
  ];
  for (const [name, message] of bad) {
    assertThrows(() => parseDiffFileName(name!), CorruptDataError, message);
  }
});

Deno.test("createDiffFileName() then parseDiffFileName() round trips", () => {
  const random = seededRandom("diff file name");
  const big = () => BigInt(Math.floor(random() * 2 ** 32)) * BigInt(Math.floor(random() * 2 ** 32));
  for (let i = 0; i < 1000; i++) {
    const g = [big(), big(), big(), big()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (g[1]! >= g[2]!) continue;
    const clean = random() < 0.5;
    const d = metaDiff(
      metaSnap(g[0]!, clean ? g[0]! : g[1]!),
      metaSnap(g[2]!, clean ? g[2]! : g[3]!),
      {
        isMergeable: random() < 0.5,
        isCompDiff: random() < 0.5,
        timestamp: Math.floor(random() * 253402300799),
      },
    );
    assertEquals(parseDiffFileName(createDiffFileName(d)), d);
  }
});
