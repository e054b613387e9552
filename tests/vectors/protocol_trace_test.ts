/**
 * Golden tests over the original walb-tools 1.0.19 protocol captures
 * (vectors/protocol-trace-get-state.txt, protocol-trace-more.txt and their .pcap files):
 * (a) decode both directions of every recorded TCP stream with our message decoders and
 * compare with the field meanings of the traces; (b) replay the recorded client side against
 * a fake proxy built from our negotiation code and compare the server bytes; (c) run our
 * client against the recorded server side and compare the client bytes.
 */
import { readMetaDiff } from "../../lib/format/meta/meta_diff.ts";
import { VU32 } from "../../lib/format/serializer/mod.ts";
import {
  type GetHandler,
  negotiateAsClient,
  Packet,
  type ProtocolHandler,
  readNegotiationRequest,
  receiveStringVector,
  receiveValueReply,
  RemoteError,
  runClient,
  runGetClient,
  runStatusClient,
  serveConnection,
  serveGet,
  serveStatus,
  STACK_TRACE_MARKER,
  stripStackTrace,
} from "../../lib/protocol/mod.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  toHex,
  VECTORS_DIR,
} from "../../lib/testing/assert.ts";
import { ManualClock } from "../../lib/testing/clock.ts";
import { netPipe } from "../../lib/testing/net_pipe.ts";
import { readPcapTcpStreams, type TcpStream } from "../../lib/testing/pcap.ts";

const GET_PCAP = readPcapTcpStreams(Deno.readFileSync(`${VECTORS_DIR}protocol-trace-get.pcap`));
const MORE_PCAP = readPcapTcpStreams(Deno.readFileSync(`${VECTORS_DIR}protocol-trace-more.pcap`));
const TIMEOUT_MS = 10_000;

function stream(streams: TcpStream[], index: number): TcpStream {
  const found = streams[index];
  assert(found !== undefined, `stream ${index} exists`);
  return found;
}

/** A packet reading `bytes` as a closed stream. */
async function packetOver(bytes: Uint8Array): Promise<Packet> {
  const [writer, reader] = netPipe();
  await writer.write(bytes);
  await writer.closeWrite();
  return new Packet(reader, { clock: new ManualClock(), timeoutMs: TIMEOUT_MS });
}

/** Decodes a recorded client→server stream up to and including the negotiation. */
async function clientNegotiation(bytes: Uint8Array) {
  const packet = await packetOver(bytes);
  return { packet, request: await readNegotiationRequest(packet) };
}

// ---- (a) decoding the recorded streams ----

Deno.test("protocol trace: both captures hold the documented TCP streams", () => {
  assertEquals(GET_PCAP.length, 2);
  assertEquals(MORE_PCAP.length, 5);
  for (const s of [...GET_PCAP, ...MORE_PCAP]) {
    assert(s.clientFin && s.serverFin, `stream ${s.index} closed by both sides`);
  }
  assertEquals(stream(MORE_PCAP, 0).client.port, 37798);
  assertEquals(stream(MORE_PCAP, 4).server.port, 10200);
  // The text trace's concatenated payloads of stream 0 of the get capture.
  assertEquals(
    toHex(stream(GET_PCAP, 0).clientToServer),
    "02766d" + "03676574" + "01" + "02" + "05737461746504766f6c30",
  );
  assertEquals(
    toHex(stream(GET_PCAP, 0).serverToClient),
    "027030" + "026f6b" + "026f6b" + "0753746f70706564" + "8277616c62",
  );
});

for (
  const [name, streams, index, params, type, value] of [
    ["get state vol0", GET_PCAP, 0, ["state", "vol0"], "string", "Stopped"],
    ["get host-type", GET_PCAP, 1, ["host-type"], "string", "proxy"],
    ["get vol", MORE_PCAP, 0, ["vol"], "lines", ["vol0"]],
  ] as const
) {
  Deno.test(`protocol trace: decode ${name}`, async () => {
    const s = stream(streams, index);
    const { packet: client, request } = await clientNegotiation(s.clientToServer);
    assertEquals(request, { clientId: "vm", protocolName: "get", version: 1 });
    assertEquals(await receiveStringVector(client), [...params]);
    assert(await client.atEof(), "nothing after the params");

    const server = await packetOver(s.serverToClient);
    assertEquals(await server.readString("server id"), "p0");
    assertEquals(await server.readString("negotiation status"), "ok");
    const received = await receiveValueReply(server, type, "test");
    assertEquals(received, typeof value === "string" ? value : [...value]);
    assert(await server.atEof(), "the ack is the last value");
  });
}

Deno.test("protocol trace: the ack is the 5 bytes of vu32 0x626c6177", async () => {
  const bytes = stream(GET_PCAP, 0).serverToClient;
  const packet = await packetOver(bytes.subarray(bytes.length - 5));
  assertEquals(await packet.readVarInt(VU32, "ack"), 0x626c6177n);
});

Deno.test("protocol trace: decode the unknown get target (error after negotiation)", async () => {
  const s = stream(MORE_PCAP, 1);
  const { packet: client, request } = await clientNegotiation(s.clientToServer);
  assertEquals(request.protocolName, "get");
  assertEquals(await receiveStringVector(client), ["all-actions"]);

  const server = await packetOver(s.serverToClient);
  assertEquals(await server.readString("server id"), "p0");
  assertEquals(await server.readString("status"), "ok");
  const error = await assertRejects(
    () => receiveValueReply(server, "lines", "c2xGetClient"),
    RemoteError,
  );
  // walbc prints "ERROR walbc error: c2xGetClient:runGetCommandServer:no such target:all-actions".
  assertEquals(error.message, "c2xGetClient:runGetCommandServer:no such target:all-actions");
  assertEquals(error.remoteMessage.length, 183);
  assert(error.remoteMessage.includes(STACK_TRACE_MARKER), "stack trace follows the text");
  assert(await server.atEof(), "no ack after an error");
});

Deno.test("protocol trace: decode the protocol a proxy does not serve", async () => {
  const s = stream(MORE_PCAP, 2);
  const { packet: client, request } = await clientNegotiation(s.clientToServer);
  assertEquals(request, { clientId: "vm", protocolName: "init-vol", version: 1 });
  assert(await client.atEof(), "the client sends nothing else");

  // Our client against the recorded server bytes gets the refusal walbc printed.
  const [clientEnd, serverEnd] = netPipe();
  await serverEnd.write(s.serverToClient);
  await serverEnd.closeWrite();
  const packet = new Packet(clientEnd, { clock: new ManualClock(), timeoutMs: TIMEOUT_MS });
  const error = await assertRejects(
    () => negotiateAsClient(packet, { clientId: "vm", protocolName: "init-vol" }),
    RemoteError,
  );
  assertEquals(error.message, "run1stNegotiateAsClient:findServerHandler:bad protocol:init-vol:vm");
  assertEquals(error.remoteMessage.length, 179);
  assertEquals(toHex(clientEnd.writtenBytes()), toHex(s.clientToServer));
});

const STATUS_LINES = [
  "hostType proxy",
  "volume vol0",
  "state Stopped",
  "sizeLb 0",
  "size 0",
  "numDiff 0",
  "totalSize 0",
  "lastWlogReceivedTime ---",
  "totalNumAction 0",
  "-----Archive-----",
  "  archive a0",
  "  host localhost:10200",
  "  compression snappy:0:1",
  "  wdiffSendDelay 0",
  "  action None",
  "  numDiff 0",
  "  lastWdiffSentTime ---",
  "  isWdiffSendError 0",
  "  wdiffTotalSize 0",
  "  wdiffSendDelayMeasured 0",
];

Deno.test("protocol trace: decode status vol0", async () => {
  const s = stream(MORE_PCAP, 3);
  const { packet: client, request } = await clientNegotiation(s.clientToServer);
  assertEquals(request, { clientId: "vm", protocolName: "status", version: 1 });
  assertEquals(await receiveStringVector(client), ["vol0"]);

  const server = await packetOver(s.serverToClient);
  assertEquals(await server.readString("server id"), "p0");
  assertEquals(await server.readString("negotiation status"), "ok");
  assertEquals(await receiveValueReply(server, "lines", "test"), STATUS_LINES);
  assert(await server.atEof(), "the ack is the last value");
});

Deno.test("protocol trace: decode the start of wdiff-transfer and different-uuid", async () => {
  const s = stream(MORE_PCAP, 4);
  const { packet: client, request } = await clientNegotiation(s.clientToServer);
  assertEquals(request, { clientId: "wdiff-send", protocolName: "wdiff-transfer", version: 1 });
  assertEquals(await client.readString("volId"), "vol0");
  assertEquals(await client.readString("host type"), "proxy");
  assertEquals(
    toHex(await client.readBytes(16, "uuid", 16)),
    "0f8a612fa85c9d6f487679eeed19a306",
  );
  assertEquals(await client.readU32("maxIoBlocks"), 0);
  assertEquals(await client.readU64("sizeLb"), 4096n);
  const diff = await client.read("MetaDiff", readMetaDiff);
  assertEquals(diff, {
    isMergeable: true,
    isCompDiff: false,
    timestamp: 1577836801,
    snapB: { gidB: 0n, gidE: 0n },
    snapE: { gidB: 1n, gidE: 1n },
    dataSize: 0,
  });
  assert(await client.atEof(), "the client waits for the answer");

  const server = await packetOver(s.serverToClient);
  assertEquals(await server.readString("server id"), "a0");
  assertEquals(await server.readString("negotiation status"), "ok");
  assertEquals(await server.readString("wdiff-transfer status"), "different-uuid");
  assert(await server.atEof(), "the archive closes after refusing");
});

// ---- (b) replaying the client side against our fake proxy ----

const PROXY_TARGETS = new Map<string, GetHandler>([
  ["state", (args) => Promise.resolve(args[0] === "vol0" ? "Stopped" : "Clear")],
  ["host-type", () => Promise.resolve("proxy")],
  ["vol", () => Promise.resolve(["vol0"])],
]);

const PROXY_HANDLERS = new Map<string, ProtocolHandler>([
  ["get", async ({ packet }) => {
    await serveGet(packet, PROXY_TARGETS);
  }],
  ["status", async ({ packet }) => {
    await serveStatus(packet, (params) => {
      assertEquals(params, ["vol0"]);
      return Promise.resolve(STATUS_LINES);
    });
  }],
]);

/** Feeds `clientBytes` to our fake proxy and returns what it wrote. */
async function replayToFakeProxy(clientBytes: Uint8Array) {
  const [clientEnd, serverEnd] = netPipe();
  await clientEnd.write(clientBytes);
  await clientEnd.closeWrite();
  const outcome = await serveConnection(serverEnd, {
    serverId: "p0",
    clock: new ManualClock(),
    timeoutMs: TIMEOUT_MS,
    handlers: PROXY_HANDLERS,
  });
  return { outcome, serverBytes: serverEnd.writtenBytes(), finSent: serverEnd.isWriteShutdown };
}

for (
  const [name, streams, index] of [
    ["get state vol0", GET_PCAP, 0],
    ["get host-type", GET_PCAP, 1],
    ["get vol", MORE_PCAP, 0],
    ["status vol0", MORE_PCAP, 3],
  ] as const
) {
  Deno.test(`protocol trace: our server answers ${name} byte for byte`, async () => {
    const s = stream(streams, index);
    const { outcome, serverBytes, finSent } = await replayToFakeProxy(s.clientToServer);
    assertEquals(outcome.error, undefined);
    assert(outcome.accepted, "protocol accepted");
    assertEquals(toHex(serverBytes), toHex(s.serverToClient));
    assert(finSent, "the server half-closed after the ack");
  });
}

/** Compares an error-carrying server stream: same bytes up to the error text, same text. */
async function assertSameErrorReply(ours: Uint8Array, recorded: Uint8Array, statusCount: number) {
  const oursPacket = await packetOver(ours);
  const recordedPacket = await packetOver(recorded);
  for (let i = 0; i < statusCount; i++) {
    assertEquals(await oursPacket.readString("value"), await recordedPacket.readString("value"));
  }
  const ourText = await oursPacket.readString("error text");
  const recordedText = await recordedPacket.readString("error text");
  // The stack trace is the original server's own addresses; the text before it must match.
  assertEquals(stripStackTrace(ourText), stripStackTrace(recordedText));
  assert(await oursPacket.atEof(), "nothing follows our error text");
  assert(await recordedPacket.atEof(), "nothing follows the recorded error text");
}

Deno.test("protocol trace: our server refuses an unknown get target like the proxy", async () => {
  const s = stream(MORE_PCAP, 1);
  const { outcome, serverBytes, finSent } = await replayToFakeProxy(s.clientToServer);
  assertEquals(outcome.error, undefined);
  await assertSameErrorReply(serverBytes, s.serverToClient, 2);
  assert(finSent, "the server half-closed after the error");
});

Deno.test("protocol trace: our server refuses init-vol like the proxy", async () => {
  const s = stream(MORE_PCAP, 2);
  const { outcome, serverBytes } = await replayToFakeProxy(s.clientToServer);
  assertEquals(outcome.accepted, false);
  assertEquals(outcome.request?.protocolName, "init-vol");
  await assertSameErrorReply(serverBytes, s.serverToClient, 1);
});

// ---- (c) our client against the recorded server side ----

/** Runs `exchange` as client `vm` against the recorded server bytes of `s`. */
async function runAgainstRecording<T>(
  s: TcpStream,
  protocolName: string,
  exchange: (packet: Packet) => Promise<T>,
): Promise<{ value: T; clientBytes: Uint8Array }> {
  const [clientEnd, serverEnd] = netPipe();
  await serverEnd.write(s.serverToClient);
  await serverEnd.closeWrite();
  const value = await runClient(
    clientEnd,
    { clock: new ManualClock(), timeoutMs: TIMEOUT_MS, clientId: "vm", protocolName },
    exchange,
  );
  assert(clientEnd.isClosed, "the client closed after the last value");
  return { value, clientBytes: clientEnd.writtenBytes() };
}

Deno.test("protocol trace: our client sends the recorded bytes of get and status", async () => {
  const state = await runAgainstRecording(
    stream(GET_PCAP, 0),
    "get",
    (p) => runGetClient(p, ["state", "vol0"]),
  );
  assertEquals(state.value, { type: "string", value: "Stopped" });
  assertEquals(toHex(state.clientBytes), toHex(stream(GET_PCAP, 0).clientToServer));

  const hostType = await runAgainstRecording(
    stream(GET_PCAP, 1),
    "get",
    (p) => runGetClient(p, ["host-type"]),
  );
  assertEquals(hostType.value, { type: "string", value: "proxy" });
  assertEquals(toHex(hostType.clientBytes), toHex(stream(GET_PCAP, 1).clientToServer));

  const vol = await runAgainstRecording(
    stream(MORE_PCAP, 0),
    "get",
    (p) => runGetClient(p, ["vol"]),
  );
  assertEquals(vol.value, { type: "lines", value: ["vol0"] });
  assertEquals(toHex(vol.clientBytes), toHex(stream(MORE_PCAP, 0).clientToServer));

  const status = await runAgainstRecording(
    stream(MORE_PCAP, 3),
    "status",
    (p) => runStatusClient(p, "vol0"),
  );
  assertEquals(status.value, STATUS_LINES);
  assertEquals(toHex(status.clientBytes), toHex(stream(MORE_PCAP, 3).clientToServer));
});

Deno.test("protocol trace: our client reports the recorded unknown-target error", async () => {
  const s = stream(MORE_PCAP, 1);
  const [clientEnd, serverEnd] = netPipe();
  await serverEnd.write(s.serverToClient);
  await serverEnd.closeWrite();
  const error = await assertRejects(
    () =>
      runClient(
        clientEnd,
        { clock: new ManualClock(), timeoutMs: TIMEOUT_MS, clientId: "vm", protocolName: "get" },
        (p) => runGetClient(p, ["all-actions"]),
      ),
    RemoteError,
  );
  assertEquals(error.message, "c2xGetClient:runGetCommandServer:no such target:all-actions");
  assertEquals(toHex(clientEnd.writtenBytes()), toHex(s.clientToServer));
});
