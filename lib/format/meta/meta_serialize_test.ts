import { CorruptDataError, LimitExceededError } from "../../errors.ts";
import { assertEquals, assertThrows, toHex } from "../../testing/assert.ts";
import { SerialReader } from "../serializer/reader.ts";
import { serialize } from "../serializer/writer.ts";
import { metaDiff, readMetaDiff, writeMetaDiff } from "./meta_diff.ts";
import { metaLsidGid, readMetaLsidGid, writeMetaLsidGid } from "./meta_lsid_gid.ts";
import { GID_NONE, metaSnap, readMetaSnap } from "./meta_snap.ts";
import {
  applyingState,
  DEFAULT_META_STATE,
  metaState,
  readMetaState,
  writeMetaState,
} from "./meta_state.ts";
import { seededPrng } from "../../testing/random.ts";

const hex = (text: string) => text.replaceAll(" ", "").toLowerCase();
const bytesOf = (text: string) => Uint8Array.from(hex(text).match(/../g)!, (b) => parseInt(b, 16));

/** Uniform [0, 1) numbers from the shared seeded generator (prints the seed; SEED=n replays). */
function seededRandom(name: string): () => number {
  const prng = seededPrng(name);
  return () => prng.next();
}

Deno.test("writeMetaState() matches the §12 examples", () => {
  assertEquals(
    toHex(serialize((w) => writeMetaState(w, DEFAULT_META_STATE))),
    hex("13 03 00 00 11 03 FF FF 11 03 FF FF"),
  );
  const st = metaState(metaSnap(0n, 100n), 1388631845);
  const bytes = serialize((w) => writeMetaState(w, st));
  assertEquals(toHex(bytes), hex("13 03 00 82 25 D7 C4 52 11 03 00 64 11 03 00 64"));
  assertEquals(readMetaState(new SerialReader(bytes)), st);
});

Deno.test("writeMetaDiff() matches the §12 example", () => {
  const d = metaDiff(metaSnap(5n), metaSnap(10n), {
    isMergeable: true,
    timestamp: 1388631845,
    dataSize: 4096,
  });
  const bytes = serialize((w) => writeMetaDiff(w, d));
  assertEquals(toHex(bytes), hex("12 03 01 00 82 25 D7 C4 52 11 03 05 05 11 03 0A 0A 81 00 10"));
  assertEquals(readMetaDiff(new SerialReader(bytes)), d);
});

Deno.test("writeMetaLsidGid() matches the §12 example", () => {
  const record = metaLsidGid(GID_NONE, GID_NONE);
  const bytes = serialize((w) => writeMetaLsidGid(w, record));
  assertEquals(toHex(bytes), hex("14 03 00 00 FF FF"));
  assertEquals(readMetaLsidGid(new SerialReader(bytes)), record);
});

Deno.test("readers check the invariants", () => {
  assertThrows(
    () => readMetaSnap(new SerialReader(bytesOf("11 03 05 04"))),
    CorruptDataError,
    "gidB 5 > gidE 4",
  );
  assertThrows(
    () => readMetaDiff(new SerialReader(bytesOf("12 03 00 00 00 11 03 05 05 11 03 05 05 00"))),
    CorruptDataError,
    "snapB.gidB 5 >= snapE.gidB 5",
  );
  assertThrows(
    () => readMetaDiff(new SerialReader(bytesOf("12 03 00 00 00 11 03 01 09 11 03 05 05 00"))),
    CorruptDataError,
    "snapB.gidE 9 > snapE.gidE 5",
  );
  assertThrows(
    () => readMetaState(new SerialReader(bytesOf("13 03 01 00 11 03 05 05 11 03 05 05"))),
    CorruptDataError,
    "not forwards",
  );
  assertThrows(() => readMetaState(new SerialReader(bytesOf("13 03 00"))), CorruptDataError);
  assertThrows(
    () => readMetaState(new SerialReader(bytesOf("12 03"))),
    CorruptDataError,
    "preamble",
  );
  assertThrows(
    () =>
      readMetaState(
        new SerialReader(bytesOf("13 03 00 83 00 00 00 00 00 00 20 00 11 03 00 00 11 03 00 00")),
      ),
    LimitExceededError,
  );
  // A not-applying state may carry any snapE.
  const st = readMetaState(new SerialReader(bytesOf("13 03 00 00 11 03 05 05 11 03 01 01")));
  assertEquals(st.snapE, metaSnap(1n));
});

function randomGid(random: () => number): bigint {
  const r = random();
  if (r < 0.1) return GID_NONE - BigInt(Math.floor(random() * 3));
  if (r < 0.5) return BigInt(Math.floor(random() * 300));
  return BigInt(Math.floor(random() * 2 ** 40)) * BigInt(Math.floor(random() * 2 ** 24));
}

Deno.test("meta structures round trip and mutated bytes give only data errors", () => {
  const random = seededRandom("meta serialize");
  for (let round = 0; round < 400; round++) {
    const g = [randomGid(random), randomGid(random), randomGid(random), randomGid(random)]
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (g[1]! >= g[2]!) continue;
    const timestamp = Math.floor(random() * 2 ** 40);
    const d = metaDiff(metaSnap(g[0]!, g[1]!), metaSnap(g[2]!, g[3]!), {
      isMergeable: random() < 0.5,
      isCompDiff: random() < 0.5,
      timestamp,
      dataSize: Math.floor(random() * 2 ** 45),
    });
    const st = random() < 0.5
      ? metaState(metaSnap(g[0]!, g[3]!), timestamp)
      : applyingState(metaSnap(g[0]!, g[1]!), metaSnap(g[2]!, g[3]!), timestamp);
    const rec = metaLsidGid(g[0]!, g[3]!, { isMergeable: random() < 0.5, timestamp });
    const bytes = serialize((w) => {
      writeMetaDiff(w, d);
      writeMetaState(w, st);
      writeMetaLsidGid(w, rec);
    });
    const reader = new SerialReader(bytes);
    assertEquals(readMetaDiff(reader), d);
    assertEquals(readMetaState(reader), st);
    assertEquals(readMetaLsidGid(reader), rec);
    for (let m = 0; m < 5; m++) {
      const mutated = bytes.slice(0, bytes.length - Math.floor(random() * 2));
      mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
      try {
        const r = new SerialReader(mutated);
        readMetaDiff(r);
        readMetaState(r);
        readMetaLsidGid(r);
      } catch (error) {
        if (!(error instanceof CorruptDataError) && !(error instanceof LimitExceededError)) {
          throw error;
        }
      }
    }
  }
});
