/**
 * Bad input to the proxy's port: garbage, an unknown protocol, a wrong version, huge
 * lengths, a wlog stream with bad items and a bad pbs, a malformed archive-info. Each gets
 * an error text or a closed connection; the server keeps serving, the volume stays Started
 * and nothing is left in `received/`.
 */
import { realClock } from "../../lib/clock.ts";
import { serialize, SerialWriter } from "../../lib/format/serializer/mod.ts";
import { Packet } from "../../lib/protocol/mod.ts";
import { createProxyServer, DenoProxyFs } from "../../lib/server/proxy/mod.ts";
import { MemoryLogger } from "../../lib/server/runtime/mod.ts";
import { assert, assertEquals } from "../../lib/testing/assert.ts";
import { ManualClock } from "../../lib/testing/clock.ts";
import { MemoryNet } from "../../lib/testing/net.ts";
import { netPipe } from "../../lib/testing/net_pipe.ts";
import { seededPrng } from "../../lib/testing/random.ts";
import { command, type Endpoint, get } from "./archive_client.ts";
import { archiveInfo, rawExchange } from "./proxy_client.ts";

function negotiation(protocolName: string, version = 1): SerialWriter {
  return new SerialWriter().string("fuzz").string(protocolName).u32(version);
}

async function strings(bytes: Uint8Array): Promise<string[]> {
  const [writer, reader] = netPipe();
  await writer.write(bytes);
  await writer.closeWrite();
  const packet = new Packet(reader, { clock: new ManualClock(), timeoutMs: 1000 });
  const out: string[] = [];
  while (!(await packet.atEof())) out.push(await packet.readString("reply"));
  return out;
}

Deno.test("proxy: bad input gets an error or a closed connection, the server keeps serving", async () => {
  const baseDir = await Deno.makeTempDir({ prefix: "walb-proxy-bad-" });
  const net = new MemoryNet();
  const server = await createProxyServer({
    serverId: "p0",
    clock: realClock,
    net,
    logger: new MemoryLogger(),
    listen: { hostname: "p0", port: 5000 },
    timeoutMs: 2_000,
    versionDescription: "version:1.0.19",
    fs: new DenoProxyFs(),
    config: {
      baseDir,
      maxWdiffSendSizeBytes: 128 << 20,
      maxWdiffSendCount: 1000,
      minRetryDelayMs: 1000,
      maxRetryDelayMs: 300_000,
      retryTimeoutMs: 1_800_000,
      maxBackgroundTasks: 1,
      connectTimeoutMs: 1000,
    },
  });
  const done = server.run();
  const ep: Endpoint = { net, addr: { hostname: "p0", port: 5000 } };
  const alive = async () => assertEquals(await get(ep, ["host-type"], "string"), "proxy");
  try {
    await archiveInfo(ep, ["add", "vol0", "a0", "a0:5000"]);
    await command(ep, "start", ["vol0"]);

    const prng = seededPrng("proxy bad input");
    for (let i = 0; i < 20; i++) {
      await rawExchange(ep, prng.bytes(1 + prng.int(200)));
    }
    await alive();

    const unknown = await strings(await rawExchange(ep, negotiation("init-vol").finish()));
    assertEquals(unknown[0], "p0");
    assert(unknown[1]!.startsWith("findServerHandler:bad protocol:init-vol:fuzz"), unknown[1]);
    const version = await strings(await rawExchange(ep, negotiation("get", 2).finish()));
    assert(version[1]!.includes("version differ c/s"), version[1]);
    // a string length of 2^40 in the negotiation, then in get's parameter vector
    const huge = Uint8Array.of(0x83, 0, 0, 0, 0, 0, 1, 0, 0);
    assertEquals((await rawExchange(ep, huge)).length, 0);
    const hugeVector = negotiation("get").finish();
    await rawExchange(ep, Uint8Array.of(...hugeVector, ...huge));
    await alive();

    // wlog-transfer: bad pbs is refused; a bad item after accept closes without Ack
    const header = (pbs: number) =>
      negotiation("wlog-transfer").string("vol0").bytes(new Uint8Array(16)).u32(pbs).u32(0)
        .u64(4096n).u64(16n);
    const badPbs = await strings(await rawExchange(ep, header(3).finish()));
    assert(badPbs[2]!.includes("bad pbs"), badPbs[2]);
    for (
      const item of [
        serialize((w) => w.u8(0).u32(0).u32(0xffffffff)), // orgSize not pbs
        serialize((w) => w.u8(0).u32(0xffffffff).u32(512)), // huge snappy size
        serialize((w) => w.u8(0).u32(0).u32(512).bytes(new Uint8Array(512))), // bad checksum
        serialize((w) => w.u8(2)), // sender error
        serialize((w) => w.u8(9)), // bad control byte
        serialize((w) => w.u8(1).u8(0x11)), // End, then a truncated MetaDiff
      ]
    ) {
      const reply = await rawExchange(ep, Uint8Array.of(...header(512).finish(), ...item));
      assertEquals(await strings(reply), ["p0", "ok", "accept"]);
      assertEquals(await get(ep, ["state", "vol0"], "string"), "Started");
    }
    const received: string[] = [];
    for await (const entry of Deno.readDir(`${baseDir}/vol0/received`)) received.push(entry.name);
    assertEquals(received, []);

    // archive-info with a huge name and a truncated HostInfoForBkp
    const infoHuge = negotiation("archive-info").stringVector(["add", "vol0"]).finish();
    await rawExchange(ep, Uint8Array.of(...infoHuge, ...huge));
    const truncated = negotiation("archive-info").stringVector(["add", "vol0"]).string("a1")
      .string("host").finish();
    const replies = await strings(await rawExchange(ep, truncated));
    assertEquals(replies.slice(0, 2), ["p0", "ok"]);
    assert(replies[2] !== "ok", "a truncated host info is refused");
    assertEquals(await archiveInfo(ep, ["list", "vol0"]), ["a0"]);
    await alive();
  } finally {
    server.context.runtime.requestShutdown(true);
    await done;
    await Deno.remove(baseDir, { recursive: true });
  }
});
