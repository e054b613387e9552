import { metaDiff, MetaDiffManager, metaSnap } from "../../format/meta/mod.ts";
import { assertEquals } from "../../testing/assert.ts";
import { nextRetryDelayMs, selectDiffs } from "./sender.ts";

function diff(b: number, e: number, init: { mergeable?: boolean; size?: number } = {}) {
  return metaDiff(metaSnap(BigInt(b)), metaSnap(BigInt(e)), {
    isMergeable: init.mergeable ?? true,
    timestamp: 1000 + e,
    dataSize: init.size ?? 100,
  });
}

const gids = (diffs: { snapB: { gidB: bigint }; snapE: { gidB: bigint } }[]) =>
  diffs.map((d) => `${d.snapB.gidB}-${d.snapE.gidB}`);

Deno.test("selectDiffs() takes the mergeable chain from the lowest gid, cut by size and count", () => {
  const pending = new MetaDiffManager([
    diff(0, 1, { mergeable: false }),
    diff(1, 2),
    diff(2, 3, { mergeable: false }),
    diff(3, 4),
  ]);
  assertEquals(gids(selectDiffs(pending, 1 << 20, 1000)), ["0-1", "1-2"]);
  assertEquals(gids(selectDiffs(pending, 150, 1000)), ["0-1"]);
  assertEquals(gids(selectDiffs(pending, 50, 1000)), ["0-1"], "at least one diff");
  assertEquals(gids(selectDiffs(pending, 1 << 20, 1)), ["0-1"]);
  assertEquals(selectDiffs(new MetaDiffManager(), 1 << 20, 1000), []);
});

Deno.test("selectDiffs() starts at the next diff once the first ones are gone", () => {
  const pending = new MetaDiffManager([diff(2, 3, { mergeable: false }), diff(3, 4), diff(4, 6)]);
  assertEquals(gids(selectDiffs(pending, 1 << 20, 1000)), ["2-3", "3-4", "4-6"]);
});

Deno.test("nextRetryDelayMs() starts at -delay and doubles up to -maxdelay", () => {
  const config = { minRetryDelayMs: 1000, maxRetryDelayMs: 5000 };
  const delays: number[] = [];
  let delay = 0;
  for (let i = 0; i < 5; i++) delays.push(delay = nextRetryDelayMs(delay, config));
  assertEquals(delays, [1000, 2000, 4000, 5000, 5000]);
});
