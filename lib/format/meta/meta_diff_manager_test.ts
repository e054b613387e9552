import { assert, assertEquals } from "../../testing/assert.ts";
import { formatMetaDiff, type MetaDiff, metaDiff } from "./meta_diff.ts";
import { formatRestorableLine, MetaDiffManager, truncateBySize } from "./meta_diff_manager.ts";
import { mergeDiffList } from "./meta_rules.ts";
import { type MetaSnap, metaSnap } from "./meta_snap.ts";
import { applyingState, formatMetaState, metaState } from "./meta_state.ts";

const s = (b: number, e = b) => metaSnap(BigInt(b), BigInt(e));
const d = (b: MetaSnap, e: MetaSnap, init: Parameters<typeof metaDiff>[2] = {}) =>
  metaDiff(b, e, init);
const texts = (v: MetaDiff[]) => v.map(formatMetaDiff);

function example(): { base: ReturnType<typeof metaState>; mgr: MetaDiffManager } {
  const mgr = new MetaDiffManager([
    d(s(0), s(4), { timestamp: 200, dataSize: 10 }),
    d(s(4), s(5), { isMergeable: true, timestamp: 300, dataSize: 20 }),
    d(s(5), s(6), { timestamp: 400, dataSize: 30 }),
    d(s(6), s(7), { isMergeable: true, timestamp: 500, dataSize: 40 }),
  ]);
  return { base: metaState(s(0, 3), 100), mgr };
}

Deno.test("MetaDiffManager.restorableList() matches the §9 example", () => {
  const { base, mgr } = example();
  const explicit = mgr.restorableList(base);
  assertEquals(explicit.map(formatRestorableLine), [
    "5 1970-01-01T00:05:00 1",
    "7 1970-01-01T00:08:20 1",
  ]);
  const all = mgr.restorableList(base, { all: true });
  assertEquals(all.map((st) => [st.snapB.gidB, st.isExplicit]), [[4n, false], [5n, true], [
    6n,
    false,
  ], [7n, true]]);
  for (const gid of [4n, 5n, 6n, 7n]) {
    assert(mgr.diffsToRestore(base, gid) !== null, `restore ${gid}`);
  }
  assertEquals(mgr.diffsToRestore(base, 3n), null);
  assertEquals(texts(mgr.diffsToRestore(base, 6n)!), ["|0|-->|4|", "|4|-->|5|", "|5|-->|6|"]);
  assertEquals(texts(mgr.diffsToRestore(base, 6n, 2)!), ["|0|-->|4|", "|4|-->|5|"]);
});

Deno.test("MetaDiffManager.mergeableList() matches the §9 example", () => {
  const { mgr } = example();
  const list = mgr.mergeableList(0n);
  assertEquals(texts(list), ["|0|-->|4|", "|4|-->|5|"]);
  const merged = mergeDiffList(list);
  assertEquals([formatMetaDiff(merged), merged.isMergeable, merged.timestamp], [
    "|0|-->|5|",
    false,
    300,
  ]);
  assertEquals(texts(mgr.mergeableList(5n)), ["|5|-->|6|", "|6|-->|7|"]);
  assertEquals(texts(mgr.mergeableList(1n)), ["|4|-->|5|"]);
  assertEquals(texts(mgr.mergeableList(0n, () => false)), ["|0|-->|4|"]);
  assertEquals(texts(mgr.applicableAndMergeableList(s(0, 3))), ["|0|-->|4|", "|4|-->|5|"]);
});

Deno.test("MetaDiffManager applicable lists, latest and oldest clean states", () => {
  const { base, mgr } = example();
  assertEquals(texts(mgr.applicableList(base.snapB)).length, 4);
  assertEquals(mgr.latestSnapshot(base), s(7));
  assertEquals(formatMetaState(mgr.latestState(base)), "<|7|>");
  assertEquals(formatMetaState(mgr.oldestCleanState(base)), "<|4|>");
  const applying = applyingState(s(0, 3), s(5), 300);
  assertEquals(texts(mgr.minimumApplicableList(applying)), ["|0|-->|4|", "|4|-->|5|"]);
  assertEquals(texts(mgr.diffsToApply(applying, 4n)), ["|0|-->|4|", "|4|-->|5|"]);
  assertEquals(mgr.diffsToApply(base, 6n, 1).length, 1);
  assertEquals(mgr.materialize(applying, 4n, false), null);
  assertEquals(mgr.diffsToScan(base, 7n, 3), null);
  assertEquals(mgr.diffsToScan(base, 7n)!.length, 4);
  assertEquals(formatMetaState(mgr.oldestCleanState(applying)), "<|5|>");
});

Deno.test("MetaDiffManager picks max-progress diffs and garbage-collects the rest", () => {
  const mgr = new MetaDiffManager([
    d(s(0), s(2)),
    d(s(0), s(3)),
    d(s(2), s(3)),
    d(s(3), s(5)),
    d(s(1), s(5)),
    d(s(9), s(10)),
  ]);
  assertEquals(texts(mgr.applicableList(s(0))), ["|0|-->|3|", "|3|-->|5|"]);
  assertEquals(texts(mgr.covering(2n)), ["|0|-->|3|", "|1|-->|5|", "|2|-->|3|"]);
  assertEquals(texts(mgr.firstDiffs(1n)), ["|1|-->|5|"]);
  const garbage = mgr.gc(s(0));
  assertEquals(texts(garbage), ["|0|-->|2|", "|1|-->|5|", "|2|-->|3|", "|9|-->|10|"]);
  assertEquals(mgr.size, 2);
});

Deno.test("MetaDiffManager gcRange, eraseBeforeGid, changeSnapshot and truncateBySize", () => {
  const mgr = new MetaDiffManager([d(s(0), s(2)), d(s(2), s(4)), d(s(0), s(4)), d(s(4), s(6))]);
  assertEquals(texts(mgr.gcRange(0n, 4n)), ["|0|-->|2|", "|2|-->|4|"]);
  assertEquals(texts(mgr.all()), ["|0|-->|4|", "|4|-->|6|"]);
  let threw = false;
  try {
    mgr.add(d(s(0), s(4), { timestamp: 5 }));
  } catch {
    threw = true;
  }
  assert(threw, "equal diffs cannot both be present");
  const changed = mgr.changeSnapshot(4n, false);
  assertEquals(changed.length, 1);
  assertEquals(changed[0]!.after.isMergeable, true);
  assertEquals(mgr.changeSnapshot(4n, false).length, 0);
  assertEquals(texts(mgr.eraseBeforeGid(4n)), ["|0|-->|4|"]);
  const { mgr: m2 } = example();
  assertEquals(truncateBySize(m2.all(), 30).length, 2);
  assertEquals(truncateBySize(m2.all(), 5).length, 1);
  assertEquals(truncateBySize([], 5).length, 0);
});
