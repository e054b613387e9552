/**
 * Fuzz pass over the parsers that the wlog and wdiff passes do not reach: metadata files
 * (MetaDiff, MetaState, MetaLsidGid through the cybozu serializer), wdiff file names, and each
 * codec's decoder on mutated compressed records. Runs for WALB_FUZZ_MS milliseconds (default
 * 2000); prints the seed, SEED=n replays. Only CorruptDataError (or its subclasses) and
 * LimitExceededError may come out.
 */
import { CorruptDataError, LimitExceededError } from "../../lib/errors.ts";
import {
  applyingState,
  createDiffFileName,
  metaDiff,
  metaLsidGid,
  metaSnap,
  metaState,
  parseDiffFileName,
  readMetaDiff,
  readMetaLsidGid,
  readMetaState,
  writeMetaDiff,
  writeMetaLsidGid,
  writeMetaState,
} from "../../lib/format/meta/mod.ts";
import { serialize, SerialReader } from "../../lib/format/serializer/mod.ts";
import {
  compressIfSmaller,
  CompressionType,
  type CompressionTypeCode,
  decompressExact,
} from "../../lib/codec/mod.ts";
import { type Prng, seededPrng } from "../../lib/testing/random.ts";

const durationMs = Number(Deno.env.get("WALB_FUZZ_MS") ?? "2000");

/** Runs `parse`; any error other than the typed data errors fails with `label`. */
function expectDataErrorOnly(label: string, parse: () => unknown): void {
  try {
    parse();
  } catch (error) {
    if (error instanceof CorruptDataError || error instanceof LimitExceededError) return;
    throw new Error(`${label}: ${error}`, { cause: error });
  }
}

/** Flips, overwrites or truncates a copy of `bytes`. */
function mutate(prng: Prng, bytes: Uint8Array): Uint8Array {
  const out = bytes.slice(0, bytes.length - (prng.chance(0.2) ? prng.int(bytes.length + 1) : 0));
  const count = 1 + prng.int(4);
  for (let i = 0; i < count && out.length > 0; i++) {
    const at = prng.int(out.length);
    out[at] = prng.chance(0.5) ? out[at]! ^ (1 << prng.int(8)) : prng.int(256);
  }
  return out;
}

function randomGid(prng: Prng): bigint {
  return prng.chance(0.5) ? BigInt(prng.int(1000)) : BigInt(prng.u32()) * BigInt(prng.u32());
}

/** Sorted gids g0 <= g1 < g2 <= g3. */
function randomGids(prng: Prng): [bigint, bigint, bigint, bigint] {
  const g = [randomGid(prng), randomGid(prng), randomGid(prng), randomGid(prng)]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (g[1]! >= g[2]!) g[2] = g[1]! + 1n;
  if (g[3]! < g[2]!) g[3] = g[2]!;
  return [g[0]!, g[1]!, g[2]!, g[3]!];
}

Deno.test("metadata, file name and codec parsers survive mutated inputs (fuzz)", () => {
  const prng = seededPrng("meta fuzz");
  const deadline = Date.now() + durationMs;
  const codecs: CompressionTypeCode[] = [
    CompressionType.gzip,
    CompressionType.snappy,
    CompressionType.lzma,
    CompressionType.lz4,
    CompressionType.zstd,
  ];
  let cases = 0;
  while (Date.now() < deadline) {
    const [g0, g1, g2, g3] = randomGids(prng);
    const timestamp = prng.int(2 ** 31);
    const diff = metaDiff(metaSnap(g0, g1), metaSnap(g2, g3), {
      isMergeable: prng.chance(0.5),
      isCompDiff: prng.chance(0.5),
      timestamp,
      dataSize: prng.int(2 ** 31),
    });
    const state = prng.chance(0.5)
      ? metaState(metaSnap(g0, g3), timestamp)
      : applyingState(metaSnap(g0, g1), metaSnap(g2, g3), timestamp);
    const record = metaLsidGid(g0, g3, { isMergeable: prng.chance(0.5), timestamp });
    const bytes = serialize((w) => {
      writeMetaDiff(w, diff);
      writeMetaState(w, state);
      writeMetaLsidGid(w, record);
    });
    const mutated = mutate(prng, bytes);
    expectDataErrorOnly(`seed=${prng.seed} case ${cases} metadata`, () => {
      const reader = new SerialReader(mutated);
      readMetaDiff(reader);
      readMetaState(reader);
      readMetaLsidGid(reader);
    });

    const name = new TextEncoder().encode(createDiffFileName(diff));
    const badName = new TextDecoder().decode(mutate(prng, name));
    expectDataErrorOnly(`seed=${prng.seed} case ${cases} name ${badName}`, () => {
      parseDiffFileName(badName);
    });

    const type = prng.pick(codecs);
    if (type !== CompressionType.lzma || cases % 16 === 0) { // xz is slow to compress
      const data = new Uint8Array(512 * (1 + prng.int(16)));
      for (let i = 0; i < data.length; i += 1 + prng.int(64)) data[i] = prng.int(256);
      const stored = compressIfSmaller(type, data, 0);
      if (stored.type !== CompressionType.none) {
        expectDataErrorOnly(`seed=${prng.seed} case ${cases} codec ${type}`, () => {
          decompressExact(stored.type, mutate(prng, stored.data), data.length, 0);
        });
      }
    }
    cases++;
  }
  // deno-lint-ignore no-console
  console.log(`meta fuzz: ${cases} cases in ${durationMs} ms`);
});
