/**
 * AC-01, AC-02, AC-05 and AC-06 of scenarios.md §3 on a real L-main group (loopback,
 * userland devices, file backend, archives with `-discard zero`; the writes include TRIMs),
 * written with the controller. Each test sets up the state its case needs on a fresh group.
 * Plus the state-machine refusals these cases imply: a wrong state gets the spec's error and
 * changes nothing.
 */
import {
  apply,
  ControllerError,
  delRestored,
  merge,
  RequestFailedError,
  restore,
  type ServerParams,
  snapshot,
  start,
  stop,
} from "../../lib/controller/mod.ts";
import { assert, assertEquals, assertRejects } from "../../lib/testing/assert.ts";
import { seededPrng } from "../../lib/testing/random.ts";
import { CASE_TIMEOUT_MS, type Group, RandomWriter, VOL, withGroup } from "./group_fixture.ts";

const TEST = { sanitizeResources: false, sanitizeOps: false };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function states(group: Group): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const server of group.layout.getAll()) {
    out[server.name] = await group.ctl.getState(server, VOL);
  }
  return out;
}

Deno.test({
  ...TEST,
  name: "AC-01 full backup then restore gives the device image",
  fn: () =>
    withGroup(async (group) => {
      const ctl = group.ctl;
      const prng = seededPrng("AC-01");
      const { gid, sha1 } = await group.backedUp(prng);
      // init left s1 in Standby; the full backup brought s0 to Target and a0 to Archived,
      // registered a0 on both proxies and left a1 alone.
      assertEquals(await states(group), {
        s0: "Target",
        s1: "Standby",
        p0: "Started",
        p1: "Started",
        a0: "Archived",
        a1: "Clear",
      });
      for (const px of [group.p0, group.p1]) {
        assertEquals(await ctl.getArchiveInfoList(px, VOL), ["a0"]);
      }
      // The returned gid is the first clean snapshot, and it restores to the device image.
      assertEquals(await ctl.getRestorableGid(group.a0, VOL), [gid]);
      await group.verifyRestore(group.a0, gid, sha1);
      assertEquals(await ctl.getRestored(group.a0, VOL), []);
    }),
});

Deno.test({
  ...TEST,
  name: "AC-02 snapshot then restore gives the device image",
  fn: () =>
    withGroup(async (group) => {
      const prng = seededPrng("AC-02");
      const first = await group.backedUp(prng);
      await group.write(0, prng, 10);
      const md0 = await group.sha1(0);
      const gid = await snapshot(group.ctl, group.s0, VOL, [group.a0], CASE_TIMEOUT_MS);
      assert(gid > first.gid, `snapshot gid ${gid} after the full backup's ${first.gid}`);
      const restorable = await group.ctl.getRestorableGid(group.a0, VOL);
      console.log(`restorable: ${restorable.join(" ")}`);
      assert(restorable.includes(gid), "snapshot() returns once the gid is restorable");
      await group.verifyRestore(group.a0, gid, md0);
      // The full backup's gid keeps its image.
      await group.verifyRestore(group.a0, first.gid, first.sha1);
    }),
});

Deno.test({
  ...TEST,
  name: "AC-05 apply keeps the image",
  fn: () =>
    withGroup(async (group) => {
      const ctl = group.ctl;
      const prng = seededPrng("AC-05");
      const first = await group.backedUp(prng);
      const writer = await RandomWriter.start(group, 0, prng);
      let gid: bigint;
      try {
        await sleep(500);
        gid = await snapshot(ctl, group.s0, VOL, [group.a0], CASE_TIMEOUT_MS);
        await sleep(500);
      } finally {
        await writer.stop();
      }
      assert(writer.writeCount > 5, `the writer wrote (${writer.writeCount})`);
      const md0 = await group.restoredSha1(group.a0, gid);
      await apply(ctl, group.a0, VOL, gid, CASE_TIMEOUT_MS);
      const restorable = await ctl.getRestorableGid(group.a0, VOL);
      assertEquals(restorable[0], gid, "after apply, gid is the oldest restorable snapshot");
      assert(!restorable.includes(first.gid), "the full backup's gid was applied away");
      assertEquals((await ctl.getBase(group.a0, VOL)).snapB.gidB, gid);
      await group.verifyRestore(group.a0, gid, md0);
    }),
});

Deno.test({
  ...TEST,
  name: "AC-06 merge keeps the image",
  fn: () =>
    withGroup(async (group) => {
      const ctl = group.ctl;
      const prng = seededPrng("AC-06");
      await group.backedUp(prng);
      const writer = await RandomWriter.start(group, 0, prng);
      let gidB: bigint;
      let gidE: bigint;
      try {
        await sleep(500);
        gidB = await snapshot(ctl, group.s0, VOL, [group.a0], CASE_TIMEOUT_MS);
        await sleep(1000);
        // Stopping s0 and emptying p0 cuts the wdiffs into separate files.
        await stop(ctl, group.s0, VOL);
        await stop(ctl, group.p0, VOL, "empty");
        await start(ctl, group.s0, VOL);
        await start(ctl, group.p0, VOL);
        await sleep(1000);
        gidE = await snapshot(ctl, group.s0, VOL, [group.a0], CASE_TIMEOUT_MS);
        const all = await ctl.getRestorableGid(group.a0, VOL, true);
        const indexB = all.indexOf(gidB);
        const indexE = all.indexOf(gidE);
        if (indexB < 0 || indexE < indexB + 2) {
          throw new Error(`bad range: ${gidB} ${gidE} in ${all.join(",")}`);
        }
        await sleep(500);
      } finally {
        await writer.stop();
      }
      const mdB = await group.restoredSha1(group.a0, gidB);
      const md0 = await group.restoredSha1(group.a0, gidE);
      const diffsBefore = await ctl.getDiffList(group.a0, VOL);
      await merge(ctl, group.a0, VOL, gidB, gidE, CASE_TIMEOUT_MS);
      const diffsAfter = await ctl.getDiffList(group.a0, VOL);
      // Count only the diffs inside [gidB, gidE]: later diffs may still arrive from the flow.
      const inRange = (list: typeof diffsBefore) =>
        list.filter((d) => d.snapB.gidB >= gidB && d.snapE.gidB <= gidE).length;
      assert(inRange(diffsBefore) >= 2, "several diffs before the merge");
      assertEquals(inRange(diffsAfter), 1, "the merge replaced them by one");
      assert(await ctl.existsDiff(group.a0, VOL, gidB, gidE), "one diff |gidB|→|gidE|");
      await group.verifyRestore(group.a0, gidE, md0);
      assert((await ctl.getRestorableGid(group.a0, VOL)).includes(gidB), "gidB stays restorable");
      await group.verifyRestore(group.a0, gidB, mdB);
    }),
});

/** What a refusal must leave unchanged. */
async function observable(group: Group): Promise<string> {
  const ctl = group.ctl;
  const a0 = group.a0;
  return JSON.stringify({
    states: await states(group),
    restorable: (await ctl.getRestorableGid(a0, VOL, true)).map(String),
    restored: (await ctl.getRestored(a0, VOL)).map(String),
    diffs: (await ctl.getDiffList(a0, VOL)).map((d) => `${d.snapB.gidB}-${d.snapE.gidB}`),
    base: String((await ctl.getBase(a0, VOL)).snapB.gidB),
    proxies: [await ctl.getArchiveInfoList(group.p0, VOL)],
  });
}

/** Requires `run` to fail with `errorClass` (and `fragment` in the message) and no change. */
async function refused(
  group: Group,
  what: string,
  run: () => Promise<unknown>,
  fragment: string,
  errorClass: typeof RequestFailedError | typeof ControllerError = RequestFailedError,
): Promise<void> {
  const before = await observable(group);
  const error = await assertRejects(run, errorClass).catch((cause) => {
    throw new Error(`${what} was not refused as expected`, { cause });
  });
  assert(error.message.includes(fragment), `${what}: "${error.message}" has "${fragment}"`);
  console.log(`refused: ${what}: ${error.message}`);
  // Asynchronous commands act after their reply: give a wrongly accepted one time to show.
  await sleep(200);
  assertEquals(await observable(group), before, `${what} changed nothing`);
}

Deno.test({
  ...TEST,
  name: "AC-01…AC-06 refusals: a wrong state gets the spec's error and changes nothing",
  fn: () =>
    withGroup(async (group) => {
      const ctl = group.ctl;
      const prng = seededPrng("AC refusals");
      const { gid } = await group.backedUp(prng);
      await group.write(0, prng, 5);
      const gid2 = await snapshot(ctl, group.s0, VOL, [group.a0], CASE_TIMEOUT_MS);
      const storage = (sx: ServerParams) => ctl.storageClient(sx);
      const archive = (ax: ServerParams) => ctl.archiveClient(ax);
      const call = <T>(server: ServerParams, run: () => Promise<T>) => () =>
        ctl.call(server, ["refusal"], run);

      // Storage: init-vol of an existing volume, snapshot on a Standby storage, full-bkp of a
      // Target volume (no reply: the client sees EOF), start of a started volume.
      await refused(
        group,
        "init-vol on s0 (Target)",
        call(group.s0, () => storage(group.s0).initVol(VOL, group.device(0).path)),
        "bad state",
      );
      await refused(
        group,
        "snapshot on s1 (Standby)",
        call(group.s1, () => storage(group.s1).snapshot(VOL)),
        "bad state",
      );
      await refused(
        group,
        "full-bkp on s0 (Target)",
        call(group.s0, () => storage(group.s0).fullBackup(VOL)),
        "closed",
      );
      await refused(
        group,
        "start target on s0 (Target)",
        call(group.s0, () => storage(group.s0).start(VOL, "target")),
        "bad state",
      );
      await refused(
        group,
        "full backup from s1 while s0 is Target",
        () => ctl.call(group.s1, ["full-bkp"], () => storage(group.s1).fullBackup(VOL)),
        "closed",
      );

      // Archive: restore on a Clear archive, of an unknown gid, of a restored gid; apply and
      // merge of ranges that are not diff ends; del-restored of what is not restored; init
      // of an Archived volume.
      await refused(
        group,
        "restore on a1 (Clear)",
        call(group.a1, () => archive(group.a1).restore(VOL, gid)),
        "bad state",
      );
      await refused(
        group,
        "restore of a gid that is not restorable",
        call(group.a0, () => archive(group.a0).restore(VOL, gid2 + 1000n)),
        "can not restore",
      );
      await restore(ctl, group.a0, VOL, gid2, CASE_TIMEOUT_MS);
      await refused(
        group,
        "restore of a restored gid (controller)",
        () => restore(ctl, group.a0, VOL, gid2),
        "already restored",
        ControllerError,
      );
      await refused(
        group,
        "restore of a restored gid (server)",
        call(group.a0, () => archive(group.a0).restore(VOL, gid2)),
        "already restored",
      );
      await refused(
        group,
        "del-restored of a gid that is not restored",
        call(group.a0, () => archive(group.a0).delRestored(VOL, gid)),
        "not found",
      );
      await refused(
        group,
        "apply up to a gid that ends no diff (controller)",
        () => apply(ctl, group.a0, VOL, gid2 + 1000n),
        "gid is not restorable",
        ControllerError,
      );
      await refused(
        group,
        "apply on a1 (Clear)",
        call(group.a1, () => archive(group.a1).apply(VOL, gid)),
        "bad state",
      );
      await refused(
        group,
        "merge of an inexact range (controller)",
        () => merge(ctl, group.a0, VOL, gid, gid2 + 1000n),
        "specify exact ranges",
        ControllerError,
      );
      await refused(
        group,
        "merge with gidE not after gidB (server)",
        call(group.a0, () => archive(group.a0).merge(VOL, gid2, gid2)),
        "bad gid range",
      );
      await refused(
        group,
        "init-vol on a0 (Archived)",
        call(group.a0, () => archive(group.a0).initVol(VOL)),
        "bad state",
      );
      await refused(
        group,
        "proxy start of a started volume",
        call(group.p0, () => ctl.proxyClient(group.p0).start(VOL)),
        "bad state",
      );

      // After all that the flow still works.
      await delRestored(ctl, group.a0, VOL, gid2);
      await group.write(0, prng, 5);
      const md = await group.sha1(0);
      const gid3 = await snapshot(ctl, group.s0, VOL, [group.a0], CASE_TIMEOUT_MS);
      await group.verifyRestore(group.a0, gid3, md);
    }),
});
