/**
 * Continuous flow under load on a real L-main group: a writer keeps writing (and trimming)
 * wdev0 while a snapshot is taken every second; the device image is recorded at each
 * snapshot (taken between two writes, so the snapshot covers exactly the writes done so
 * far). Afterwards every snapshot gid must be restorable and restore to that image, and
 * every implicit gid in between must restore too (to some image).
 *
 * @module
 */
import { snapshotNbk } from "../../lib/controller/mod.ts";
import { assert, assertEquals } from "../../lib/testing/assert.ts";
import { seededPrng } from "../../lib/testing/random.ts";
import { CASE_TIMEOUT_MS, RandomWriter, VOL, withGroup } from "./group_fixture.ts";

/** Runs the flow for `durationMs` of writing. */
export async function flowUnderLoad(durationMs: number): Promise<void> {
  await withGroup(async (group) => {
    const ctl = group.ctl;
    const prng = seededPrng(`flow under load ${durationMs}`);
    const first = await group.backedUp(prng);
    const taken: { gid: bigint; sha1: string }[] = [first];
    const writer = await RandomWriter.start(group, 0, prng, 2);
    try {
      const startMs = Date.now();
      for (let tick = 1; tick * 1000 <= durationMs; tick++) {
        const waitMs = startMs + tick * 1000 - Date.now();
        if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
        taken.push(
          await writer.between(async () => {
            const sha1 = await group.sha1(0);
            const gid = await snapshotNbk(ctl, group.s0, VOL);
            return { gid, sha1 };
          }),
        );
      }
    } finally {
      await writer.stop();
    }
    console.log(`${writer.writeCount} writes, ${taken.length} snapshots`);
    assert(writer.writeCount > taken.length * 10, "the writer kept writing");
    for (let i = 1; i < taken.length; i++) {
      assert(taken[i]!.gid > taken[i - 1]!.gid, "snapshot gids grow");
    }
    for (const { gid } of taken) await ctl.waitForRestorable(group.a0, VOL, gid, CASE_TIMEOUT_MS);
    const restorable = await ctl.getRestorableGid(group.a0, VOL);
    // The newest restorable gid is always listed (§9: the last diff is explicit), so an implicit
    // snapshot taken after the last explicit one may close the list.
    const lastTaken = taken[taken.length - 1]!.gid;
    assertEquals(
      restorable.filter((gid) => gid <= lastTaken),
      taken.map((t) => t.gid),
      "the explicit restorable gids",
    );
    assert(restorable.filter((gid) => gid > lastTaken).length <= 1, "at most the newest after");
    for (const { gid, sha1 } of taken) await group.verifyRestore(group.a0, gid, sha1);
    // Implicit snapshots (every second, -snapintvl 1) restore too.
    const all = await ctl.getRestorableGid(group.a0, VOL, true);
    const implicit = all.filter((gid) => !restorable.includes(gid));
    for (const gid of implicit.slice(0, 3)) await group.restoredSha1(group.a0, gid);
  });
}
