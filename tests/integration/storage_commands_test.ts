/**
 * Storage commands and their refusals against a real userland WalB device (in process, on
 * the in-memory network): init-vol/clear-vol/start standby/stop/start target/snapshot/
 * reset-vol state edges with their persisted state files, status and get targets, refusals
 * (bad volume id, missing device, bad role, `stop empty`, snapshot in a wrong state,
 * full-bkp in a wrong state gets no reply, archive refusal text), bad bytes to the port, and
 * a restart that loads the volume from its files (queue file included).
 */
import { SerialWriter } from "../../lib/format/serializer/mod.ts";
import { RemoteError } from "../../lib/protocol/errors.ts";
import { receiveValueReply, sendStringVector } from "../../lib/protocol/reply.ts";
import { decodeQueueFile } from "../../lib/server/storage/mod.ts";
import { assert, assertEquals, assertRejects } from "../../lib/testing/assert.ts";
import { MemoryNet } from "../../lib/testing/net.ts";
import { seededPrng } from "../../lib/testing/random.ts";
import { rawExchange } from "./proxy_client.ts";
import {
  command,
  get,
  MiB,
  request,
  snapshot,
  startArchive,
  startDevice,
  startStorage,
  VOL,
  waitLong,
} from "./storage_support.ts";

function negotiation(protocolName: string, version = 1): SerialWriter {
  return new SerialWriter().string("fuzz").string(protocolName).u32(version);
}

Deno.test("storage: commands, states, persistence, refusals and bad input", async () => {
  const root = await Deno.makeTempDir({ prefix: "walb-storage-cmd-" });
  const net = new MemoryNet();
  const daemon = await startDevice(root, 4 * MiB);
  const archive = await startArchive(net, `${root}/archive`);
  let storage = await startStorage(net, `${root}/storage`);
  const s = storage.endpoint;
  const a = archive.endpoint;
  const stateFile = async () =>
    new TextDecoder().decode((await Deno.readFile(`${root}/storage/${VOL}/state`)).subarray(1));
  const alive = async () => assertEquals(await get(s, ["host-type"], "string"), "storage");
  try {
    assertEquals(await get(s, ["state", VOL], "string"), "Clear");
    await assertRejects(
      () => command(s, "init-vol", ["bad_id", daemon.paths.controlPath]),
      RemoteError,
    );
    await assertRejects(() => command(s, "init-vol", [VOL, `${root}/nothing`]), RemoteError);
    await command(s, "init-vol", [VOL, daemon.paths.controlPath]);
    await assertRejects(() => command(s, "init-vol", [VOL, daemon.paths.controlPath]), RemoteError);
    assertEquals(await stateFile(), "SyncReady");
    assertEquals(await get(s, ["vol"], "lines"), [VOL]);
    assertEquals(await get(s, ["uuid", VOL], "string"), "0".repeat(32));
    assertEquals(await get(s, ["is-overflow", VOL], "size"), 0n);
    assert((await get(s, ["log-usage", VOL], "lines"))[0]!.startsWith(`name:${VOL}\tusage_pb:`));

    // Refusals in SyncReady.
    await assertRejects(() => command(s, "start", [VOL, "target"]), RemoteError);
    await assertRejects(() => command(s, "start", [VOL, "sideways"]), RemoteError);
    await assertRejects(() => snapshot(s), RemoteError);
    await assertRejects(() => command(s, "stop", [VOL, "empty"], "accept"), RemoteError);

    // Standby and back.
    await command(s, "start", [VOL, "standby"]);
    assertEquals(await get(s, ["state", VOL], "string"), "Standby");
    assertEquals(await stateFile(), "Standby");
    // full-bkp outside SyncReady: no reply, the client sees EOF.
    await assertRejects(() => command(s, "full-bkp", [VOL], "accept"), Error);
    await command(s, "stop", [VOL], "accept");
    await waitLong(
      "SyncReady",
      async () => (await get(s, ["state", VOL], "string")) === "SyncReady",
    );
    assertEquals(await stateFile(), "SyncReady");

    // The archive refuses a full sync of a volume it does not have: the text reaches walbc.
    const refusal = await assertRejects(() => command(s, "full-bkp", [VOL]), RemoteError);
    assert(refusal.message.includes("not accepted by archive"), refusal.message);
    assertEquals(await get(s, ["state", VOL], "string"), "SyncReady");

    // Full backup (no proxies: the wlog sends fail and are retried), then stop and restart.
    await command(a, "init-vol", [VOL]);
    await command(s, "full-bkp", [VOL, "1m"], "accept");
    await waitLong("Target", async () => (await get(s, ["state", VOL], "string")) === "Target");
    assertEquals(await stateFile(), "Target");
    const gid = await snapshot(s);
    const status = await request(s, "status", async (p) => {
      await sendStringVector(p, [VOL]);
      return await receiveValueReply(p, "lines", "status");
    });
    assert(status.includes("state Target"), status.join("\n"));
    assert(status.includes("-----QueueFile-----"), status.join("\n"));
    assert(status.some((line) => line.endsWith(`gid ${gid}`)), status.join("\n"));
    const latest = await get(s, ["latest-snap", VOL], "lines");
    assert(latest[0]!.includes(`gid:${gid}`), latest[0]!);
    const queue = decodeQueueFile(await Deno.readFile(`${root}/storage/${VOL}/queue`));
    assertEquals(queue.records[0]!.gid, gid);
    assertEquals(queue.records[0]!.isMergeable, false);

    await command(s, "stop", [VOL, "force"], "accept");
    await waitLong("Stopped", async () => (await get(s, ["state", VOL], "string")) === "Stopped");
    assertEquals(await stateFile(), "Stopped");
    await command(s, "kick", []);

    await storage.kill();
    storage = await startStorage(net, `${root}/storage`);
    assertEquals(await get(s, ["state", VOL], "string"), "Stopped");
    assertEquals(storage.server.context.volume(VOL).queue[0]?.gid, gid);
    await command(s, "start", [VOL, "target"]);
    assertEquals(await stateFile(), "Target");
    await command(s, "stop", [VOL], "accept");
    await waitLong("Stopped", async () => (await get(s, ["state", VOL], "string")) === "Stopped");
    await command(s, "reset-vol", [VOL]);
    assertEquals(await get(s, ["state", VOL], "string"), "SyncReady");
    assertEquals(storage.server.context.volume(VOL).queue.length, 0);
    assertEquals(storage.server.context.volume(VOL).done.lsid, 0n);
    await command(s, "clear-vol", [VOL]);
    assertEquals(await get(s, ["state", VOL], "string"), "Clear");
    assertEquals(await get(s, ["vol"], "lines"), []);

    // Bad bytes to the port: garbage, unknown protocol, wrong version, huge lengths.
    const prng = seededPrng("storage bad input");
    for (let i = 0; i < 30; i++) await rawExchange(s, prng.bytes(1 + prng.int(200)));
    await alive();
    await rawExchange(s, negotiation("wlog-transfer").finish());
    await rawExchange(s, negotiation("get", 2).finish());
    await rawExchange(
      s,
      Uint8Array.of(...negotiation("init-vol").finish(), 0xff, 0xff, 0xff, 0xff, 0x0f),
    );
    await rawExchange(
      s,
      Uint8Array.of(...negotiation("full-bkp").finish(), 0x01, 0xff, 0xff, 0x7f),
    );
    await rawExchange(s, Uint8Array.of(...negotiation("snapshot").finish(), 0x01, 0x05, 0x00));
    await alive();
    const unknownReply = await rawExchange(s, negotiation("wdiff-transfer").finish());
    assert(
      new TextDecoder().decode(unknownReply).includes("bad protocol"),
      "unknown protocol refused",
    );
    await assertRejects(() => get(s, ["no-such-target"], "string"), RemoteError);
    await alive();
  } finally {
    await storage.kill().catch(() => {});
    await archive.kill().catch(() => {});
    await daemon.stop(true).catch(() => {});
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});
