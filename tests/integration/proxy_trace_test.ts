/**
 * The recorded walbc ↔ walb-proxy exchanges (vectors/protocol-trace-get.pcap and
 * protocol-trace-more.pcap) replayed against our real proxy: the same client bytes must get
 * the same server bytes (error texts compared up to the original's stack trace). The proxy is
 * brought into the recorded state: `archive-info add vol0 a0 localhost:10200`, `start vol0`,
 * `stop vol0`.
 */
import { realClock } from "../../lib/clock.ts";
import { Packet, stripStackTrace } from "../../lib/protocol/mod.ts";
import { createProxyServer, DenoProxyFs } from "../../lib/server/proxy/mod.ts";
import { MemoryLogger } from "../../lib/server/runtime/mod.ts";
import { assert, assertEquals, toHex, VECTORS_DIR } from "../../lib/testing/assert.ts";
import { ManualClock } from "../../lib/testing/clock.ts";
import { MemoryNet } from "../../lib/testing/net.ts";
import { netPipe } from "../../lib/testing/net_pipe.ts";
import { readPcapTcpStreams, type TcpStream } from "../../lib/testing/pcap.ts";
import { command, type Endpoint, get, waitFor } from "./archive_client.ts";
import { archiveInfo, rawExchange } from "./proxy_client.ts";

const GET_PCAP = readPcapTcpStreams(Deno.readFileSync(`${VECTORS_DIR}protocol-trace-get.pcap`));
const MORE_PCAP = readPcapTcpStreams(Deno.readFileSync(`${VECTORS_DIR}protocol-trace-more.pcap`));

function stream(streams: TcpStream[], index: number): TcpStream {
  const found = streams[index];
  assert(found !== undefined, `stream ${index} exists`);
  return found;
}

async function packetOver(bytes: Uint8Array): Promise<Packet> {
  const [writer, reader] = netPipe();
  await writer.write(bytes);
  await writer.closeWrite();
  return new Packet(reader, { clock: new ManualClock(), timeoutMs: 10_000 });
}

/** Same strings up to the error text, same text before the stack trace, nothing after. */
async function assertSameErrorReply(ours: Uint8Array, recorded: Uint8Array, statusCount: number) {
  const oursPacket = await packetOver(ours);
  const recordedPacket = await packetOver(recorded);
  for (let i = 0; i < statusCount; i++) {
    assertEquals(await oursPacket.readString("value"), await recordedPacket.readString("value"));
  }
  const ourText = await oursPacket.readString("error text");
  const recordedText = await recordedPacket.readString("error text");
  assertEquals(stripStackTrace(ourText), stripStackTrace(recordedText));
  assert(await oursPacket.atEof(), "nothing follows our error text");
}

Deno.test("proxy trace: our proxy answers the recorded walbc requests byte for byte", async () => {
  const baseDir = await Deno.makeTempDir({ prefix: "walb-proxy-trace-" });
  const net = new MemoryNet();
  const server = await createProxyServer({
    serverId: "p0",
    clock: realClock,
    net,
    logger: new MemoryLogger(),
    listen: { hostname: "p0", port: 10100 },
    timeoutMs: 10_000,
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
  const ep: Endpoint = { net, addr: { hostname: "p0", port: 10100 } };
  try {
    await archiveInfo(ep, ["add", "vol0", "a0", "localhost:10200"]);
    await command(ep, "start", ["vol0"]);
    await command(ep, "stop", ["vol0"], "accept");
    await waitFor(
      "stopped",
      async () => (await get(ep, ["state", "vol0"], "string")) === "Stopped",
    );

    for (
      const [name, streams, index] of [
        ["get state vol0", GET_PCAP, 0],
        ["get host-type", GET_PCAP, 1],
        ["get vol", MORE_PCAP, 0],
        ["status vol0", MORE_PCAP, 3],
      ] as const
    ) {
      const s = stream(streams, index);
      const ours = await rawExchange(ep, s.clientToServer);
      assertEquals(toHex(ours), toHex(s.serverToClient), name);
    }
    const unknownTarget = stream(MORE_PCAP, 1);
    await assertSameErrorReply(
      await rawExchange(ep, unknownTarget.clientToServer),
      unknownTarget.serverToClient,
      2,
    );
    const initVol = stream(MORE_PCAP, 2);
    await assertSameErrorReply(
      await rawExchange(ep, initVol.clientToServer),
      initVol.serverToClient,
      1,
    );
  } finally {
    server.context.runtime.requestShutdown(true);
    await done;
    await Deno.remove(baseDir, { recursive: true });
  }
});
