/**
 * Fuzz pass over the wlog parsers: mutate the shared vectors for WALB_FUZZ_MS milliseconds
 * (default 2000). Prints the seed; SEED=n replays.
 */
import { VECTORS_DIR } from "../../lib/testing/assert.ts";
import { runMutations, testSeed, vectorSamples } from "./wlog_mutation.ts";

Deno.test("wlog parsers survive mutated vectors (fuzz)", async () => {
  const seed = testSeed();
  const durationMs = Number(Deno.env.get("WALB_FUZZ_MS") ?? "2000");
  console.log(`wlog fuzz seed=${seed} for ${durationMs} ms`);
  const samples = await vectorSamples(VECTORS_DIR);
  const count = await runMutations(samples, seed, { deadline: Date.now() + durationMs });
  console.log(`wlog fuzz: ${count} cases`);
});
