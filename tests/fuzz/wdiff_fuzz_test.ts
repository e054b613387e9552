/**
 * Fuzzes the wdiff readers with mutated vectors for WALB_FUZZ_MS milliseconds (default 2000).
 * SEED=n replays a run.
 */
import { VECTORS_DIR } from "../../lib/testing/assert.ts";
import { runMutations, testSeed } from "./wdiff_mutation.ts";

const names = [
  "w2.sorted.wdiff",
  "w2.indexed.wdiff",
  "w1.x4k.sorted.wdiff",
  "w4-pbs4k.indexed.wdiff",
  "merged.gzip.wdiff",
  "merged.lz4.wdiff",
  "merged.zstd.wdiff",
  "merged.lzma.wdiff",
  "base-2M.full.indexed.wdiff",
];

Deno.test("wdiff readers survive mutated vectors", async () => {
  const samples = names.map((name) => ({ name, bytes: Deno.readFileSync(VECTORS_DIR + name) }));
  const seed = testSeed();
  const durationMs = Number(Deno.env.get("WALB_FUZZ_MS") ?? "2000");
  console.log(`seed=${seed} durationMs=${durationMs}`);
  const outcomes = await runMutations(samples, seed, durationMs, 20);
  console.log(JSON.stringify(Object.fromEntries(outcomes)));
});
