/** A short run of the wdiff mutation fuzzer (tests/fuzz runs it longer). SEED=n replays. */
import { VECTORS_DIR } from "../../testing/assert.ts";
import { runMutations, testSeed } from "../../../tests/fuzz/wdiff_mutation.ts";

Deno.test("wdiff readers throw only typed errors on mutated vectors", async () => {
  const samples = ["w2.sorted.wdiff", "w2.indexed.wdiff", "merged.zstd.wdiff"].map((name) => ({
    name,
    bytes: Deno.readFileSync(VECTORS_DIR + name),
  }));
  await runMutations(samples, testSeed(), 0, 300);
});
