import { assert, assertEquals } from "../../testing/assert.ts";
import { formatMetaDiff, isCleanDiff, type MetaDiff, metaDiff } from "./meta_diff.ts";
import {
  applyDiff,
  applyDiffList,
  canApply,
  canMerge,
  containsDiff,
  diffRelation,
  maxProgressDiff,
  mergeDiff,
  mergeDiffList,
} from "./meta_rules.ts";
import { formatMetaSnap, type MetaSnap, metaSnap } from "./meta_snap.ts";
import {
  applyingState,
  applyToState,
  beginApplying,
  canApplyListToState,
  canApplyToState,
  endApplying,
  formatMetaState,
  metaState,
  stateEquals,
} from "./meta_state.ts";
import { seededPrng } from "../../testing/random.ts";

/** Uniform [0, 1) numbers from the shared seeded generator (prints the seed; SEED=n replays). */
function seededRandom(name: string): () => number {
  const prng = seededPrng(name);
  return () => prng.next();
}

const s = (b: number, e = b) => metaSnap(BigInt(b), BigInt(e));
const d = (b: MetaSnap, e: MetaSnap, init: Parameters<typeof metaDiff>[2] = {}) =>
  metaDiff(b, e, init);

Deno.test("applyDiff() matches the §8.5 examples", () => {
  assertEquals(formatMetaSnap(applyDiff(s(0, 3), d(s(0), s(2)))), "|2,3|");
  assertEquals(formatMetaSnap(applyDiff(s(0, 3), d(s(0), s(4)))), "|4|");
  // A dirty diff gives its end snapshot.
  assertEquals(applyDiff(s(1), d(s(0, 1), s(5, 7))), s(5, 7));
  assertEquals(applyDiffList(s(0, 3), [d(s(0), s(2)), d(s(2), s(4))]), s(4));
});

Deno.test("diffRelation() classifies log and compared diffs", () => {
  assertEquals(diffRelation(s(5), d(s(6), s(8))), "TOO_NEW");
  assertEquals(diffRelation(s(5), d(s(3), s(5))), "TOO_OLD");
  assertEquals(diffRelation(s(5), d(s(3), s(6))), "APPLICABLE");
  assertEquals(diffRelation(s(5), d(s(5), s(6), { isCompDiff: true })), "APPLICABLE");
  assertEquals(diffRelation(s(5), d(s(4), s(6), { isCompDiff: true })), "NOT_APPLICABLE");
  assert(canApply(s(5, 9), d(s(5), s(6))));
});

Deno.test("mergeDiff() matches the §8.5 example and rules", () => {
  const merged = mergeDiff(d(s(0), s(2, 5)), d(s(2), s(3), { isMergeable: true, timestamp: 9 }));
  assertEquals(formatMetaDiff(merged), "|0|-->|3,5|");
  assertEquals(merged.timestamp, 9);
  assertEquals(merged.isMergeable, false);
  assert(!canMerge(d(s(0), s(2)), d(s(2), s(3))), "d1 must be mergeable");
  assert(!canMerge(d(s(0), s(2)), d(s(3), s(4), { isMergeable: true })), "no gap");
  assert(!canMerge(d(s(0), s(2), { isCompDiff: true }), d(s(2), s(3), { isMergeable: true })));
  assert(!canMerge(d(s(0), s(4)), d(s(2), s(3), { isMergeable: true })), "must progress");
  assert(canMerge(d(s(0), s(4)), d(s(2), s(5), { isMergeable: true })), "overlap allowed");
  assert(containsDiff(d(s(0), s(4)), d(s(1), s(4))));
  assert(!containsDiff(d(s(1), s(4)), d(s(0), s(4))));
});

Deno.test("maxProgressDiff() prefers larger snapE.gidB, then larger snapB.gidB, then the first", () => {
  const a = d(s(0), s(5));
  const b = d(s(1), s(5));
  const c = d(s(1, 2), s(5, 9));
  assertEquals(maxProgressDiff([a, b, c]), b);
  assertEquals(maxProgressDiff([c, b]), c);
  assertEquals(maxProgressDiff([]), undefined);
});

Deno.test("state rules: canApply, begin/end applying, equality and text", () => {
  const st = metaState(s(0, 3), 100);
  const v = [d(s(0), s(2), { timestamp: 200 }), d(s(2), s(4), { timestamp: 300 })];
  assert(canApplyListToState(st, v));
  const applying = beginApplying(st, v);
  assertEquals(formatMetaState(applying), "<|0,3|-->|4|>");
  assertEquals(applying.timestamp, 300);
  assert(!canApplyToState(applying, d(s(0), s(2))), "an apply in progress cannot go backwards");
  assert(canApplyToState(applying, d(s(0), s(4))));
  assert(!canApplyListToState(applying, v.slice(0, 1)), "must reach the target");
  const done = endApplying(applying, v);
  assertEquals(formatMetaState(done, { withTimestamp: true }), "<|4|>-19700101000500");
  assert(stateEquals(done, metaState(s(4), 1)), "equality ignores the timestamp");
  assert(!stateEquals(done, applyingState(s(4), s(5), 0)));
  assertEquals(applyToState(st, []), st);
});

function randomDiff(random: () => number, gidMax: number): MetaDiff {
  for (;;) {
    const g = Array.from({ length: 4 }, () => Math.floor(random() * gidMax)).sort((x, y) => x - y);
    const clean = random() < 0.6;
    const bB = g[0]!, bE = clean ? g[0]! : g[1]!, eB = g[2]!, eE = clean ? g[2]! : g[3]!;
    if (bB >= eB || bE > eE) continue;
    return d(s(bB, bE), s(eB, eE), {
      isMergeable: random() < 0.8,
      isCompDiff: random() < 0.05,
      timestamp: Math.floor(random() * 1000),
    });
  }
}

const same = (a: MetaDiff, b: MetaDiff) => formatMetaDiff(a) === formatMetaDiff(b);

Deno.test("merge is associative and apply(apply(s,d0),d1) == apply(s, merge(d0,d1))", () => {
  const random = seededRandom("meta rules");
  let checkedAssoc = 0;
  let checkedApply = 0;
  for (let round = 0; round < 20000; round++) {
    const [d0, d1, d2] = [randomDiff(random, 12), randomDiff(random, 12), randomDiff(random, 12)];
    // With a dirty d1 or d2 the gid-level merge is not associative (the §8.5 max rule):
    // (|1,2|-->|3,11| +++ |2|-->|6|) +++ |3,6|-->|9| = |1,2|-->|9| but
    // |1,2|-->|3,11| +++ (|2|-->|6| +++ |3,6|-->|9|) = |1,2|-->|9,11|; block contents are.
    const laterClean = isCleanDiff(d1) && isCleanDiff(d2);
    if (laterClean && canMerge(d0, d1) && canMerge(d1, d2)) {
      const left = mergeDiff(d0, d1);
      const right = mergeDiff(d1, d2);
      if (canMerge(left, d2) && canMerge(d0, right)) {
        const a = mergeDiff(left, d2);
        const b = mergeDiff(d0, right);
        assert(
          same(a, b),
          `${[d0, d1, d2].map(formatMetaDiff).join(" ")}: ${formatMetaDiff(a)} != ${
            formatMetaDiff(b)
          }`,
        );
        assertEquals([a.timestamp, a.isMergeable], [b.timestamp, b.isMergeable]);
        assert(same(a, mergeDiffList([d0, d1, d2])));
        checkedAssoc++;
      }
    }
    const b = Math.floor(random() * 12);
    const snap = s(b, b + Math.floor(random() * 4));
    // Dirty diffs set the snapshot to their end (§8.5), so the identity holds for clean log
    // diffs: |7,10| <<< |0|-->|8| <<< |0,6|-->|9| = |9| but |7,10| <<< |0|-->|9| = |9,10|.
    if (isCleanDiff(d0) && isCleanDiff(d1) && canApply(snap, d0) && canMerge(d0, d1)) {
      const merged = mergeDiff(d0, d1);
      const mid = applyDiff(snap, d0);
      if (canApply(mid, d1) && canApply(snap, merged)) {
        const [x, y] = [applyDiff(mid, d1), applyDiff(snap, merged)];
        const text = [snap].map(formatMetaSnap).concat([d0, d1].map(formatMetaDiff)).join(" ");
        assert(
          formatMetaSnap(x) === formatMetaSnap(y),
          `${text}: ${formatMetaSnap(x)} != ${formatMetaSnap(y)}`,
        );
        checkedApply++;
      }
    }
  }
  assert(checkedAssoc > 50, `associativity checked ${checkedAssoc} times`);
  assert(checkedApply > 50, `apply/merge checked ${checkedApply} times`);
});
