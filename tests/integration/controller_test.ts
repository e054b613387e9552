/**
 * The controller library against the in-process archive on the in-memory network:
 * initArchive, waitForRestorable while the vector wdiffs arrive, restore (image sha1s of
 * expected-image-sha1.txt) through get restored-path, delRestored, merge, apply, the
 * refusals as typed errors, status.
 */
import { assert, assertEquals, assertRejects, VECTORS_DIR } from "../../lib/testing/assert.ts";
import { realClock } from "../../lib/clock.ts";
import { MemoryNet } from "../../lib/testing/net.ts";
import { createTestArchive } from "./archive_support.ts";
import { FileBackend } from "../../lib/archive-backend/mod.ts";
import { metaDiff, metaSnap } from "../../lib/format/meta/mod.ts";
import {
  apply,
  Controller,
  ControllerError,
  delRestored,
  initArchive,
  merge,
  RequestFailedError,
  restore,
  ServerConnectionParam,
  ServerLayout,
  WaitTimeoutError,
} from "../../lib/controller/mod.ts";
import { sendWdiff, sha1File } from "./archive_client.ts";

const SHA1 = {
  w2: "6a2ba3b0162fd9cc7fc436324315d0c0835dcf3a",
  w4: "79f624c592643a93fec79e91f2a28127bcc41dd9",
};
const WDIFFS = ["w1.sorted.wdiff", "w2.sorted.wdiff", "w3.sorted.wdiff", "w4-pbs4k.sorted.wdiff"];
const VOL = "vol0";
const UUID = "00112233445566778899aabbccddeeff";

Deno.test("Controller: restore, waitForRestorable, merge, apply on an archive", async () => {
  const baseDir = await Deno.makeTempDir({ prefix: "walb-controller-" });
  await Deno.mkdir(`${baseDir}/_images`);
  const net = new MemoryNet();
  const backend = new FileBackend(`${baseDir}/_images`);
  const context = await createTestArchive(net, baseDir, { backend });
  const done = context.runtime.run();
  const a0 = new ServerConnectionParam("a0", "a0", 5000, "archive");
  const reports: string[] = [];
  const ctl = new Controller(new ServerLayout([], [], [a0]), {
    net,
    clock: realClock,
    pollIntervalMs: 20,
    report: (message) => reports.push(message),
  });
  try {
    await initArchive(ctl, a0, VOL);
    assertEquals(await ctl.getState(a0, VOL), "SyncReady");
    const again = await assertRejects(() => initArchive(ctl, a0, VOL), RequestFailedError);
    assert(again.message.includes("init-vol vol0 on a0"), again.message);
    assert(again.message.includes("bad state"), again.message);

    await backend.create(`wb_${VOL}`, 4096 * 512);
    const device = await backend.open(`wb_${VOL}`);
    await device.write(0, await Deno.readFile(VECTORS_DIR + "base-2M.img"));
    await device.close();
    const archive = ctl.archiveClient(a0);
    await archive.dbgSetUuid(VOL, UUID);
    await archive.dbgSetBase(VOL, "<|0|>-20200101000000");
    await archive.dbgSetState(VOL, "Archived");
    assertEquals(await ctl.getRestorableGid(a0, VOL), [0n]);
    await assertRejects(() => ctl.waitForRestorable(a0, VOL, 4n, 50), WaitTimeoutError);
    await ctl.verifyNotRestorable(a0, VOL, 4n, 50, "before the wdiffs");

    // waitForRestorable sees gid 4 once the four wdiffs have arrived
    const waiting = ctl.waitForRestorable(a0, VOL, 4n, 20_000);
    const uuid = Uint8Array.from(UUID.match(/../g)!.map((b) => parseInt(b, 16)));
    for (const [i, name] of WDIFFS.entries()) {
      const reply = await sendWdiff({ net, addr: { hostname: "a0", port: 5000 } }, {
        volId: VOL,
        path: VECTORS_DIR + name,
        diff: metaDiff(metaSnap(BigInt(i)), metaSnap(BigInt(i + 1)), {
          isMergeable: i > 0,
          timestamp: 1577836801 + i,
        }),
        uuid,
        sizeLb: 4096n,
      });
      assertEquals(reply, "accept");
    }
    await waiting;
    assertEquals(await ctl.getRestorableGid(a0, VOL), [0n, 4n]);
    assertEquals(await ctl.getRestorableGid(a0, VOL, true), [0n, 1n, 2n, 3n, 4n]);
    const diffs = await ctl.getDiffList(a0, VOL);
    assertEquals(diffs.map((d) => [d.snapB.gidB, d.snapE.gidB, d.isMergeable]), [
      [0n, 1n, false],
      [1n, 2n, true],
      [2n, 3n, true],
      [3n, 4n, true],
    ]);
    assertEquals((await ctl.getApplicableDiffList(a0, VOL, 2n)).length, 2);
    assertEquals(await ctl.getNumDiff(a0, VOL, 1n, 3n), 2n);
    assert((await ctl.getTotalDiffSize(a0, VOL)) > 0n);

    // restore through restored-path
    await restore(ctl, a0, VOL, 2n, 20_000);
    const path = await ctl.getRestoredPath(a0, VOL, 2n);
    assertEquals(await sha1File(path), SHA1.w2);
    await assertRejects(() => restore(ctl, a0, VOL, 2n), ControllerError);
    await delRestored(ctl, a0, VOL, 2n);
    assertEquals(await ctl.getRestored(a0, VOL), []);
    assertEquals(reports, []);

    // merge: exact ranges only; 1..4 becomes one diff and 4 keeps its image
    await assertRejects(() => merge(ctl, a0, VOL, 1n, 5n), ControllerError);
    // a single diff passes the local checks; the archive refuses it
    await assertRejects(() => merge(ctl, a0, VOL, 0n, 1n), RequestFailedError);
    await merge(ctl, a0, VOL, 1n, 4n, 20_000);
    assertEquals(await ctl.getNumDiff(a0, VOL), 2n);
    assert(await ctl.existsDiff(a0, VOL, 1n, 4n));
    await restore(ctl, a0, VOL, 4n, 20_000);
    assertEquals(await sha1File(await ctl.getRestoredPath(a0, VOL, 4n)), SHA1.w4);
    await delRestored(ctl, a0, VOL, 4n);

    // apply: gid must end an applicable diff; after apply 4 the base image is w4
    await assertRejects(() => apply(ctl, a0, VOL, 3n), ControllerError);
    await apply(ctl, a0, VOL, 4n, 20_000);
    const base = await ctl.getBase(a0, VOL);
    assertEquals([base.isApplying, base.snapB.gidB], [false, 4n]);
    assertEquals(await ctl.getRestorableGid(a0, VOL), [4n]);
    assertEquals(await sha1File(`${baseDir}/_images/wb_${VOL}`), SHA1.w4);

    const status = await ctl.status(undefined, VOL);
    assertEquals(status[0], `${"+".repeat(20)}a0${"+".repeat(20)}`);
    assert(status.includes("state Archived"), status.join("|"));
    await assertRejects(() => ctl.verifyState(a0, VOL, "Stopped"), ControllerError);
  } finally {
    context.runtime.requestShutdown(true);
    await done;
    await Deno.remove(baseDir, { recursive: true });
  }
});
