/**
 * The proxy server end to end with an archive, in one process on the in-memory network with
 * real files: archive-info, wlog reception of the vector wlogs (indexed wdiffs identical to
 * wlog-to-wdiff -indexed), merged sends to the archive, restore sha1s, refusals (archive
 * stopped → retried, too-old dropped, different uuid dropped, archive unreachable), proxy
 * stop/start (graceful and empty), an aborted transfer, restart recovery.
 */
import { realClock } from "../../lib/clock.ts";
import { metaDiff, metaSnap } from "../../lib/format/meta/mod.ts";
import { IndexedWdiffWriter } from "../../lib/format/wdiff/mod.ts";
import { diffRecordOfLogIo } from "../../lib/format/wdiff/wlog_to_wdiff.ts";
import { BufferedWriter } from "../../lib/io/stream.ts";
import { RemoteError } from "../../lib/protocol/errors.ts";
import { runClient } from "../../lib/protocol/connection.ts";
import { createProxyServer, DenoProxyFs, type ProxyServer } from "../../lib/server/proxy/mod.ts";
import { MemoryLogger } from "../../lib/server/runtime/mod.ts";
import { sendWlogStream, writeWlogTransferHeader } from "../../lib/server/wlog_transfer.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  toHex,
  VECTORS_DIR,
} from "../../lib/testing/assert.ts";
import { MemoryNet } from "../../lib/testing/net.ts";
import { createTestArchive } from "./archive_support.ts";
import { command, type Endpoint, get, sha1File, waitFor } from "./archive_client.ts";
import { archiveInfo, readWlogFile, sendWlog, type WlogSource } from "./proxy_client.ts";

const VOL = "vol0";
const SIZE_LB = 4096n;
const TS0 = 1577836800;
const UUID_HEX = "eb8047ff25f4c16a4814bcee8c2f67b8"; // w1's device uuid
const UUID = Uint8Array.from(UUID_HEX.match(/../g)!.map((b) => parseInt(b, 16)));
const SHA1 = {
  w3: "4d5dc843201072f39477863cd2327779f2222abe",
  w4: "79f624c592643a93fec79e91f2a28127bcc41dd9",
};
const ARCHIVE: Endpoint["addr"] = { hostname: "a0", port: 5000 };
const PROXY: Endpoint["addr"] = { hostname: "p0", port: 5000 };

/** Diff i (1-based): |i-1| → |i|, mergeable except the first. */
function diffOf(i: number) {
  return metaDiff(metaSnap(BigInt(i - 1)), metaSnap(BigInt(i)), {
    isMergeable: i > 1,
    timestamp: TS0 + i,
  });
}

async function startArchive(net: MemoryNet, baseDir: string) {
  const context = await createTestArchive(net, baseDir);
  return { context, done: context.runtime.run(), endpoint: { net, addr: ARCHIVE } };
}

async function startProxy(net: MemoryNet, baseDir: string, init: { stop?: boolean } = {}) {
  const logger = new MemoryLogger();
  const server: ProxyServer = await createProxyServer({
    serverId: "p0",
    clock: realClock,
    net,
    logger,
    listen: PROXY,
    timeoutMs: 10_000,
    versionDescription: "version:1.0.19",
    fs: new DenoProxyFs(),
    stopAtStartup: init.stop ?? false,
    config: {
      baseDir,
      maxWdiffSendSizeBytes: 128 << 20,
      maxWdiffSendCount: 1000,
      minRetryDelayMs: 20,
      maxRetryDelayMs: 100,
      retryTimeoutMs: 1_800_000,
      maxBackgroundTasks: 1,
      connectTimeoutMs: 1000,
    },
  });
  return { server, logger, done: server.run(), endpoint: { net, addr: PROXY } };
}

async function setUpArchive(ep: Endpoint, archive: Awaited<ReturnType<typeof startArchive>>) {
  await command(ep, "init-vol", [VOL]);
  const backend = archive.context.backend;
  await backend.create(`wb_${VOL}`, Number(SIZE_LB) * 512);
  const device = await backend.open(`wb_${VOL}`);
  await device.write(0, await Deno.readFile(VECTORS_DIR + "base-2M.img"));
  await device.close();
  await command(ep, "dbg-set-uuid", [VOL, UUID_HEX]);
  await command(ep, "dbg-set-base", [VOL, "<|0|>-20200101000000"]);
  await command(ep, "dbg-set-state", [VOL, "Archived"]);
}

async function names(path: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(path)) out.push(entry.name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return out.sort();
}

async function restoreAndCheck(ep: Endpoint, gid: number, sha1: string): Promise<void> {
  await command(ep, "restore", [VOL, String(gid)], "accept");
  await waitFor(
    `restore ${gid}`,
    async () => (await get(ep, ["restored", VOL], "lines")).includes(String(gid)),
  );
  const path = await get(ep, ["restored-path", VOL, String(gid)], "string");
  assertEquals(await sha1File(path), sha1, `restored ${gid}`);
  await command(ep, "del-restored", [VOL, String(gid)]);
}

Deno.test("proxy: wlogs in, merged wdiffs out, refusals, stop/start, restart", async () => {
  const root = await Deno.makeTempDir({ prefix: "walb-proxy-" });
  const archiveDir = `${root}/archive`;
  const proxyDir = `${root}/proxy`;
  await Deno.mkdir(`${archiveDir}/_images`, { recursive: true });
  await Deno.mkdir(proxyDir);
  const net = new MemoryNet();
  const archive = await startArchive(net, archiveDir);
  let proxy = await startProxy(net, proxyDir);
  const aep = archive.endpoint;
  try {
    await setUpArchive(aep, archive);
    let pep: Endpoint = proxy.endpoint;
    const wlogs: WlogSource[] = [];
    for (const name of ["w1.wlog", "w2.wlog", "w3.wlog", "w4-pbs4k.wlog"]) {
      wlogs.push(await readWlogFile(VECTORS_DIR + name));
    }
    const send = (i: number, init: { uuid?: Uint8Array; diff?: ReturnType<typeof diffOf> } = {}) =>
      sendWlog(pep, {
        volId: VOL,
        uuid: init.uuid ?? UUID,
        source: wlogs[i - 1]!,
        diff: init.diff ?? diffOf(i),
        volSizeLb: SIZE_LB,
      });
    const sendto = `${proxyDir}/${VOL}/sendto/a0`;

    // archive-info and the states it moves through
    assertEquals(await get(pep, ["state", VOL], "string"), "Clear");
    await archiveInfo(pep, ["add", VOL, "a0", "a0:5000"]);
    const refused = await assertRejects(
      () => archiveInfo(pep, ["add", VOL, "a0", "a0:5000"]),
      RemoteError,
    );
    assert(refused.message.includes("already exists"), refused.message);
    assertEquals(await archiveInfo(pep, ["list", VOL]), ["a0"]);
    assertEquals(await archiveInfo(pep, ["get", VOL, "a0"]), {
      addrPort: { addr: "a0", port: 5000 },
      compression: { type: 2, level: 0, numCpu: 1 },
      wdiffSendDelaySec: 0,
    });
    assertEquals(await get(pep, ["state", VOL], "string"), "Stopped");
    assertEquals(await names(`${proxyDir}/${VOL}`), ["a0.archive", "received", "sendto", "size"]);
    assertEquals(toHex(await Deno.readFile(`${proxyDir}/${VOL}/size`)), "00");
    const early = await send(1);
    assert(early.includes("bad state"), early);
    await command(pep, "start", [VOL]);
    assertEquals(await get(pep, ["state", VOL], "string"), "Started");

    // the archive is stopped: w1..w3 accumulate at the proxy (sends refused with "stopped")
    await command(aep, "stop", [VOL], "accept");
    await waitFor(
      "archive stopped",
      async () => (await get(aep, ["state", VOL], "string")) === "Stopped",
    );
    for (const i of [1, 2, 3]) assertEquals(await send(i), "accept");
    assertEquals(await names(`${proxyDir}/${VOL}/received`), []);
    const files = await names(sendto);
    assertEquals(files, [
      "20200101000001----0-1.wdiff",
      "20200101000002-M--1-2.wdiff",
      "20200101000003-M--2-3.wdiff",
    ]);
    for (const name of files) {
      assertEquals((await Deno.stat(`${sendto}/${name}`)).mode! & 0o777, 0o644, name);
    }
    // the proxy's indexed wdiffs are wlog-to-wdiff -indexed's (w1 has the same uuid: all bytes)
    assertEquals(
      toHex(await Deno.readFile(`${sendto}/${files[0]}`)),
      toHex(await Deno.readFile(VECTORS_DIR + "w1.indexed.wdiff")),
    );
    for (const [index, vector] of [[1, "w2"], [2, "w3"]] as const) {
      const ours = await Deno.readFile(`${sendto}/${files[index]}`);
      const theirs = await Deno.readFile(`${VECTORS_DIR}${vector}.indexed.wdiff`);
      assertEquals(toHex(ours.subarray(32)), toHex(theirs.subarray(32)), vector);
    }
    assertEquals((await get(pep, ["proxy-diff", VOL, "a0"], "lines")).length, 3);
    assertEquals(await get(pep, ["proxy-diff", VOL], "lines"), []);
    assertEquals(toHex(await Deno.readFile(`${proxyDir}/${VOL}/size`)), "810010");
    await waitFor(
      "a stopped reply",
      () => Promise.resolve(proxy.logger.has("retry in") && proxy.logger.has(":stopped")),
    );
    const status = await get(pep, ["latest-snap", VOL], "lines");
    assertEquals(status, [
      `name:${VOL}\tkind:proxy\tarchive:a0\tgid:3\ttimestamp:2020-01-01T00:00:03`,
    ]);

    // the archive is back: one merged transfer |0|-->|3|
    await command(aep, "start", [VOL]);
    await command(pep, "kick", [VOL]);
    await waitFor("merged send", async () => (await names(sendto)).length === 0);
    const archived = await get(aep, ["diff", VOL], "lines");
    assertEquals(archived.length, 1);
    assert(archived[0]!.startsWith("|0|-->|3| -- 2020-01-01T00:00:03"), archived[0]);
    await restoreAndCheck(aep, 3, SHA1.w3);

    // a 4 KiB-pbs wlog goes alone
    assertEquals(await send(4), "accept");
    await waitFor("w4 sent", async () => (await get(aep, ["num-diff", VOL], "size")) === 2n);
    await restoreAndCheck(aep, 4, SHA1.w4);
    const volumeStatus = await get(pep, ["is-wdiff-send-error", VOL, "a0"], "size");
    assertEquals(volumeStatus, 0n);

    // too old (resent range) and different uuid: dropped by the proxy
    assertEquals(await send(2), "accept");
    await waitFor("too-old dropped", async () => (await names(sendto)).length === 0);
    assert(proxy.logger.has("too-old-diff"), "too-old-diff logged");
    assertEquals(
      await sendWlog(pep, {
        volId: VOL,
        uuid: new Uint8Array(16),
        source: wlogs[1]!,
        diff: diffOf(5),
        volSizeLb: SIZE_LB,
      }),
      "accept",
    );
    await waitFor("different uuid dropped", async () => (await names(sendto)).length === 0);
    assert(proxy.logger.has("different-uuid"), "different-uuid logged");
    assertEquals(await get(aep, ["num-diff", VOL], "size"), 2n);

    // archive unreachable: retried; reachable again: sent
    net.refuse(ARCHIVE);
    assertEquals(await send(2, { diff: diffOf(5) }), "accept");
    await waitFor("connect failure", () => Promise.resolve(proxy.logger.has("wdiffSender:failed")));
    assertEquals((await names(sendto)).length, 1);
    net.refuse(ARCHIVE, false);
    await waitFor("sent after refusal", async () => (await names(sendto)).length === 0);
    assertEquals(await get(aep, ["num-diff", VOL], "size"), 3n);

    // proxy stop (graceful): wlog-transfer refused; start again
    await command(pep, "stop", [VOL], "accept");
    await waitFor(
      "proxy stopped",
      async () => (await get(pep, ["state", VOL], "string")) === "Stopped",
    );
    const whileStopped = await send(2, { diff: diffOf(6) });
    assert(whileStopped.includes("bad state"), whileStopped);
    await command(pep, "start", [VOL]);

    // stop empty: pending diffs are sent first
    await command(aep, "stop", [VOL], "accept");
    await waitFor(
      "archive stopped",
      async () => (await get(aep, ["state", VOL], "string")) === "Stopped",
    );
    assertEquals(await send(2, { diff: diffOf(6) }), "accept");
    // only the first character of the mode counts: "e" is empty
    await command(pep, "stop", [VOL, "e"], "accept");
    await waitFor(
      "waiting for empty",
      async () => (await get(pep, ["state", VOL], "string")) === "WaitForEmpty",
    );
    await command(aep, "start", [VOL]);
    await waitFor(
      "stopped when empty",
      async () => (await get(pep, ["state", VOL], "string")) === "Stopped",
    );
    assertEquals(await names(sendto), []);
    assertEquals(await get(aep, ["num-diff", VOL], "size"), 4n);
    await command(pep, "start", [VOL]);

    // stop modes by their first character: f… force, anything else graceful
    for (const [modeText, mode] of [["fast", "force"], ["xyz", "graceful"]] as const) {
      await command(pep, "stop", [VOL, modeText], "accept");
      await waitFor(
        `stopped by ${modeText}`,
        async () => (await get(pep, ["state", VOL], "string")) === "Stopped",
      );
      assert(proxy.logger.has(`stop succeeded:${VOL}:${mode}`), `stop ${modeText} is ${mode}`);
      await command(pep, "start", [VOL]);
    }

    // an aborted transfer leaves nothing behind and the volume Started
    const conn = await net.connect(PROXY);
    await runClient(conn, {
      clock: realClock,
      clientId: "s0",
      protocolName: "wlog-transfer",
      timeoutMs: 10_000,
    }, async (packet) => {
      writeWlogTransferHeader(packet, {
        volId: VOL,
        uuid: UUID,
        pbs: 512,
        salt: wlogs[0]!.salt,
        volSizeLb: SIZE_LB,
        maxLogSizePb: 1024n,
      });
      await packet.flush();
      assertEquals(await packet.readString("reply"), "accept");
      const first = wlogs[0]!.packs[0]!;
      const partial = async function* () {
        yield first;
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new Error("storage crashed");
      };
      await assertRejects(() => sendWlogStream(packet, partial()), Error, "storage crashed");
    });
    await waitFor(
      "aborted transfer rolled back",
      async () =>
        (await get(pep, ["state", VOL], "string")) === "Started" &&
        (await names(`${proxyDir}/${VOL}/received`)).length === 0,
    );

    // restart recovery: a temporary and a renamed-but-not-linked wdiff in received/
    await command(aep, "stop", [VOL], "accept");
    await waitFor(
      "archive stopped",
      async () => (await get(aep, ["state", VOL], "string")) === "Stopped",
    );
    proxy.server.context.runtime.requestShutdown(true);
    await proxy.done;
    const received = `${proxyDir}/${VOL}/received`;
    await Deno.writeFile(`${received}/tmpAbCdEf`, new Uint8Array(100));
    await writeIndexedWdiff(
      `${received}/20200101000007-M--6-7.wdiff`,
      wlogs[1]!,
    );
    proxy = await startProxy(net, proxyDir);
    pep = proxy.endpoint;
    assertEquals(await names(received), []);
    assertEquals(await names(sendto), ["20200101000007-M--6-7.wdiff"]);
    assertEquals(await get(pep, ["state", VOL], "string"), "Started");
    assert(proxy.logger.has("garbage collected tmp files"), "tmp collected");
    await command(aep, "start", [VOL]);
    await command(pep, "kick", []);
    await waitFor("recovered diff sent", async () => (await names(sendto)).length === 0);
    assertEquals(await get(aep, ["num-diff", VOL], "size"), 5n);

    // -stop: volumes stay Stopped; archive-info delete of the last archive clears the volume
    proxy.server.context.runtime.requestShutdown(false);
    await proxy.done;
    proxy = await startProxy(net, proxyDir, { stop: true });
    pep = proxy.endpoint;
    assertEquals(await get(pep, ["state", VOL], "string"), "Stopped");
    await archiveInfo(pep, ["delete", VOL, "a0"]);
    assertEquals(await get(pep, ["state", VOL], "string"), "Clear");
    assertEquals(await names(proxyDir), []);
  } finally {
    proxy.server.context.runtime.requestShutdown(true);
    archive.context.runtime.requestShutdown(true);
    await Promise.all([proxy.done, archive.done]);
    await Deno.remove(root, { recursive: true });
  }
});

/** Writes an indexed wdiff of `source` with the test's uuid (as the proxy would have). */
async function writeIndexedWdiff(path: string, source: WlogSource): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const writer = new IndexedWdiffWriter(new BufferedWriter(file), { uuid: UUID });
    for (const pack of source.packs) {
      for (const io of pack.ios) {
        const record = diffRecordOfLogIo(io);
        if (record !== null) await writer.add(record);
      }
    }
    await writer.close();
  } finally {
    file.close();
  }
}
