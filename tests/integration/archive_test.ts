/**
 * The archive server end to end on the in-memory network (one process): init-vol, a base
 * image installed through the library plus dbg-set-*, wdiff-transfer of the vector wdiffs,
 * restore (image sha1s of expected-image-sha1.txt), merge and apply keeping images equal,
 * state-machine refusals, restart with crash recovery.
 */
import { assert, assertEquals, assertRejects, VECTORS_DIR } from "../../lib/testing/assert.ts";
import { MemoryNet } from "../../lib/testing/net.ts";
import { createTestArchive } from "./archive_support.ts";
import { MemoryLogger } from "../../lib/server/runtime/mod.ts";
import { metaDiff, metaSnap } from "../../lib/format/meta/mod.ts";
import { RemoteError } from "../../lib/protocol/errors.ts";
import { command, type Endpoint, get, sendWdiff, sha1File, waitFor } from "./archive_client.ts";

const SHA1 = {
  w1: "e1183597ef34f5f20b1cc90b0bf2b6a9c68d56a6",
  w2: "6a2ba3b0162fd9cc7fc436324315d0c0835dcf3a",
  w3: "4d5dc843201072f39477863cd2327779f2222abe",
  w4: "79f624c592643a93fec79e91f2a28127bcc41dd9",
};
const WDIFFS = ["w1.sorted.wdiff", "w2.sorted.wdiff", "w3.sorted.wdiff", "w4-pbs4k.sorted.wdiff"];
const SIZE_LB = 4096n;
const VOL = "vol0";
const TS0 = 1577836800;

async function startServer(net: MemoryNet, baseDir: string) {
  const logger = new MemoryLogger();
  const context = await createTestArchive(net, baseDir, { logger });
  const done = context.runtime.run();
  const endpoint: Endpoint = { net, addr: { hostname: "a0", port: 5000 } };
  return { context, done, endpoint, logger };
}

/** Diff i (1-based): |i-1| → |i|, mergeable except the first, timestamps TS0 + i. */
function diffOf(i: number) {
  return metaDiff(metaSnap(BigInt(i - 1)), metaSnap(BigInt(i)), {
    isMergeable: i > 1,
    timestamp: TS0 + i,
  });
}

async function dirNames(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(path)) names.push(entry.name);
  return names.sort();
}

Deno.test("archive: wdiff reception, restore, merge, apply, refusals, restart", async () => {
  const baseDir = await Deno.makeTempDir({ prefix: "walb-archive-" });
  await Deno.mkdir(`${baseDir}/_images`);
  const net = new MemoryNet();
  let server = await startServer(net, baseDir);
  try {
    const ep = server.endpoint;
    // init-vol, and its refusal in a wrong state (nothing changed)
    await command(ep, "init-vol", [VOL]);
    assertEquals(await get(ep, ["state", VOL], "string"), "SyncReady");
    const refused = await assertRejects(() => command(ep, "init-vol", [VOL]), RemoteError);
    assert(refused.message.includes("bad state:SyncReady:Clear:InitVol"), refused.message);
    assertEquals(await dirNames(`${baseDir}/${VOL}`), ["archive_uuid", "base", "state", "uuid"]);
    assertEquals([...await Deno.readFile(`${baseDir}/${VOL}/base`)], [
      0x13,
      0x03,
      0,
      0,
      0x11,
      0x03,
      0xff,
      0xff,
      0x11,
      0x03,
      0xff,
      0xff,
    ]);
    // a wdiff is refused before the volume is Archived
    const early = await sendWdiff(ep, {
      volId: VOL,
      path: VECTORS_DIR + WDIFFS[0],
      diff: diffOf(1),
      sizeLb: SIZE_LB,
    });
    assert(early.includes("bad state"), early);

    // install the base image through the library, then the debug commands
    const backend = server.context.backend;
    await backend.create(`wb_${VOL}`, Number(SIZE_LB) * 512);
    const device = await backend.open(`wb_${VOL}`);
    await device.write(0, await Deno.readFile(VECTORS_DIR + "base-2M.img"));
    await device.close();
    const uuid = "00112233445566778899aabbccddeeff";
    await command(ep, "dbg-set-uuid", [VOL, uuid]);
    await command(ep, "dbg-set-base", [VOL, "<|0|>-20200101000000"]);
    await command(ep, "dbg-set-state", [VOL, "Archived"]);
    assertEquals(await get(ep, ["uuid", VOL], "string"), uuid);
    assertEquals(await get(ep, ["base", VOL], "string"), "<|0|>-20200101000000");
    // Clear cannot be persisted: refused without changing the state
    const clear = await assertRejects(
      () => command(ep, "dbg-set-state", [VOL, "Clear"]),
      RemoteError,
    );
    assert(clear.message.includes("Clear cannot be persisted"), clear.message);
    assertEquals(await get(ep, ["state", VOL], "string"), "Archived");
    const uuidBytes = Uint8Array.from(uuid.match(/../g)!.map((b) => parseInt(b, 16)));

    // wdiff-transfer replies
    const send = (
      i: number,
      init: { uuid?: Uint8Array; hostType?: string; sizeLb?: bigint } = {},
    ) =>
      sendWdiff(ep, {
        volId: VOL,
        path: VECTORS_DIR + WDIFFS[i - 1],
        diff: diffOf(i),
        uuid: init.uuid ?? uuidBytes,
        sizeLb: init.sizeLb ?? SIZE_LB,
        ...(init.hostType === undefined ? {} : { hostType: init.hostType }),
      });
    assertEquals(await send(2), "too-new-diff");
    assertEquals(await send(1, { uuid: new Uint8Array(16) }), "different-uuid");
    assertEquals(await send(1, { sizeLb: SIZE_LB * 2n }), "smaller-lv-size");
    assertEquals(await send(1), "accept");
    assertEquals(await send(1), "too-old-diff");
    assertEquals(await send(2, { uuid: new Uint8Array(16), hostType: "archive" }), "accept");
    assertEquals(await send(3), "accept");
    assertEquals(await send(4), "accept");
    const diffLines = await get(ep, ["diff", VOL], "lines");
    assertEquals(diffLines.length, 4);
    assert(diffLines[0]!.startsWith("|0|-->|1| -- 2020-01-01T00:00:01 "), diffLines[0]);
    assert(diffLines[1]!.startsWith("|1|-->|2| M- "), diffLines[1]);
    assertEquals((await get(ep, ["applicable-diff", VOL], "lines")).length, 4);
    assertEquals(await get(ep, ["num-diff", VOL], "size"), 4n);
    const files = (await dirNames(`${baseDir}/${VOL}`)).filter((n) => n.endsWith(".wdiff"));
    assertEquals(files, [
      "20200101000001----0-1.wdiff",
      "20200101000002-M--1-2.wdiff",
      "20200101000003-M--2-3.wdiff",
      "20200101000004-M--3-4.wdiff",
    ]);
    for (const name of files) {
      // received wdiffs have the metadata files' mode (wdiff-and-archive.md §12, §13.1)
      assertEquals((await Deno.stat(`${baseDir}/${VOL}/${name}`)).mode! & 0o777, 0o644, name);
    }
    assertEquals(await get(ep, ["restorable", VOL], "lines"), [
      "0 2020-01-01T00:00:00 0",
      "4 2020-01-01T00:00:04 1",
    ]);
    assertEquals((await get(ep, ["restorable", VOL, "all"], "lines")).length, 5);

    // restore: image sha1s equal the original tools' results
    const restoreAndCheck = async (gid: number, sha1: string) => {
      await command(ep, "restore", [VOL, String(gid)], "accept");
      await waitFor(
        `restore ${gid}`,
        async () => (await get(ep, ["restored", VOL], "lines")).includes(String(gid)),
      );
      const path = await get(ep, ["restored-path", VOL, String(gid)], "string");
      assertEquals(path, `${baseDir}/_images/wr_${VOL}_${gid}`);
      assertEquals(await sha1File(path), sha1, `restored ${gid}`);
    };
    await restoreAndCheck(2, SHA1.w2);
    await restoreAndCheck(4, SHA1.w4);
    const again = await assertRejects(
      () => command(ep, "restore", [VOL, "4"], "accept"),
      RemoteError,
    );
    assert(again.message.includes("already restored"), again.message);
    await assertRejects(() => command(ep, "restore", [VOL, "9"], "accept"), RemoteError);

    // merge 1..4 into one diff; restore 4 again gives the same image
    await command(ep, "merge", [VOL, "1", "gid", "4"], "accept");
    await waitFor("merge", async () => (await get(ep, ["num-diff", VOL], "size")) === 2n);
    assertEquals(await get(ep, ["num-action", VOL, "Merge"], "size"), 0n);
    const merged = await get(ep, ["diff", VOL], "lines");
    assert(merged[1]!.startsWith("|1|-->|4| M- 2020-01-01T00:00:04 "), merged[1]);
    const mergedPath = `${baseDir}/${VOL}/20200101000004-M--1-4.wdiff`;
    assertEquals((await Deno.stat(mergedPath)).mode! & 0o777, 0o644);
    await command(ep, "del-restored", [VOL, "4"]);
    await restoreAndCheck(4, SHA1.w4);
    await command(ep, "del-restored", [VOL, "4"]);

    // disable/enable snapshot rename the files
    await command(ep, "disable-snapshot", [VOL, "0"]);
    assert((await dirNames(`${baseDir}/${VOL}`)).includes("20200101000001-M--0-1.wdiff"));
    await command(ep, "enable-snapshot", [VOL, "0"]);
    assert((await dirNames(`${baseDir}/${VOL}`)).includes("20200101000001----0-1.wdiff"));

    // apply up to 3 is impossible inside the merged diff; apply 1, then 4
    await command(ep, "apply", [VOL, "1"], "accept");
    await waitFor(
      "apply 1",
      async () => (await get(ep, ["base", VOL], "string")) === "<|1|>-20200101000001",
    );
    assertEquals(await sha1File(`${baseDir}/_images/wb_${VOL}`), SHA1.w1);
    await command(ep, "apply", [VOL, "4"], "accept");
    await waitFor(
      "apply 4",
      async () => (await get(ep, ["base", VOL], "string")) === "<|4|>-20200101000004",
    );
    await waitFor(
      "apply end",
      async () => (await get(ep, ["num-action", VOL, "Apply"], "size")) === 0n,
    );
    assertEquals(await sha1File(`${baseDir}/_images/wb_${VOL}`), SHA1.w4);
    assertEquals(await get(ep, ["num-diff", VOL], "size"), 0n);
    assertEquals(await sha1File(`${baseDir}/_images/wr_${VOL}_2`), SHA1.w2);
    await assertRejects(() => command(ep, "apply", [VOL, "5"], "accept"), RemoteError);

    // refusals: wrong state, nothing changed
    const before = await dirNames(`${baseDir}/${VOL}`);
    const startRefused = await assertRejects(() => command(ep, "start", [VOL]), RemoteError);
    assert(startRefused.message.includes("bad state:Archived:Stopped:Start"), startRefused.message);
    await assertRejects(() => command(ep, "clear-vol", [VOL]), RemoteError);
    await assertRejects(() => command(ep, "init-vol", ["bad_id"]), RemoteError);
    await assertRejects(() => get(ep, ["no-such-target"], "string"), RemoteError);
    assertEquals(await dirNames(`${baseDir}/${VOL}`), before);
    assertEquals(await get(ep, ["state", VOL], "string"), "Archived");

    // stop → stopped replies; start again
    await command(ep, "stop", [VOL], "accept");
    await waitFor("stop", async () => (await get(ep, ["state", VOL], "string")) === "Stopped");
    assertEquals(await send(1), "stopped");
    await command(ep, "start", [VOL]);
    assertEquals(await get(ep, ["state", VOL], "string"), "Archived");
    const status = await request0(ep, VOL);
    assert(status.includes("state Archived"), status.join("|"));
    assert(status.includes("base <|4|>"), status.join("|"));
    assertEquals(await get(ep, ["volume-group"], "string"), `${baseDir}/_images`);

    // crash leftovers, then restart: recovery removes them and keeps everything else
    await Deno.writeFile(`${baseDir}/${VOL}/tmpABC123`, new Uint8Array(10));
    await Deno.writeFile(`${baseDir}/_images/wr_${VOL}_7_tmp`, new Uint8Array(10));
    await Deno.writeFile(`${baseDir}/${VOL}/20200101000009-M--7-8.wdiff`, new Uint8Array(10));
    await command(ep, "shutdown", []).catch(() => {});
    server.context.runtime.requestShutdown(false);
    await server.done;
    server = await startServer(net, baseDir);
    const ep2 = server.endpoint;
    assertEquals(await get(ep2, ["state", VOL], "string"), "Archived");
    assertEquals(await get(ep2, ["base", VOL], "string"), "<|4|>-20200101000004");
    assertEquals(await get(ep2, ["uuid", VOL], "string"), uuid);
    assertEquals(await get(ep2, ["restored", VOL], "lines"), ["2"]);
    assertEquals(await dirNames(`${baseDir}/${VOL}`), ["archive_uuid", "base", "state", "uuid"]);
    assert(!(await dirNames(`${baseDir}/_images`)).includes(`wr_${VOL}_7_tmp`));
    assert(server.logger.has("garbage collected wdiff files"));
    // and it keeps receiving
    assertEquals(
      await sendWdiff(ep2, {
        volId: VOL,
        path: VECTORS_DIR + WDIFFS[0],
        diff: metaDiff(metaSnap(4n), metaSnap(5n), { timestamp: TS0 + 5 }),
        uuid: uuidBytes,
        sizeLb: SIZE_LB,
      }),
      "accept",
    );
    await command(ep2, "clear-vol", [VOL]).catch((error) => {
      assert(error instanceof RemoteError);
    });
    await command(ep2, "stop", [VOL], "accept");
    await waitFor("stop", async () => (await get(ep2, ["state", VOL], "string")) === "Stopped");
    await command(ep2, "clear-vol", [VOL]);
    assertEquals(await get(ep2, ["state", VOL], "string"), "Clear");
    assertEquals(await dirNames(`${baseDir}/_images`), []);
  } finally {
    server.context.runtime.requestShutdown(true);
    await server.done;
    await Deno.remove(baseDir, { recursive: true });
  }
});

async function request0(ep: Endpoint, volId: string): Promise<string[]> {
  const { request } = await import("./archive_client.ts");
  const { runStatusClient } = await import("../../lib/protocol/status.ts");
  return await request(ep, "status", (p) => runStatusClient(p, volId));
}
