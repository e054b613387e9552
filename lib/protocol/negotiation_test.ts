import { CorruptDataError, LimitExceededError } from "../errors.ts";
import { assert, assertEquals, assertRejects, toHex } from "../testing/assert.ts";
import { ConnectionClosedError, RemoteError } from "./errors.ts";
import {
  negotiateAsClient,
  negotiateAsServer,
  negotiationRefusal,
  readNegotiationRequest,
  writeNegotiationRequest,
} from "./negotiation.ts";
import { fromHex, packetPair, packetReading, writtenHex } from "./packet_testing.ts";

const isGet = (name: string) => name === "get";

Deno.test("writeNegotiationRequest() writes id, protocol and version 1", async () => {
  assertEquals(
    await writtenHex((p) =>
      writeNegotiationRequest(p, { clientId: "vm", protocolName: "get", version: 1 })
    ),
    "02766d" + "03676574" + "01",
  );
});

Deno.test("negotiateAsClient() and negotiateAsServer() agree on the exact bytes", async () => {
  const { client, server, clientEnd, serverEnd } = packetPair();
  const serving = negotiateAsServer(server, { serverId: "p0", isServed: isGet });
  assertEquals(await negotiateAsClient(client, { clientId: "vm", protocolName: "get" }), "p0");
  const { request, accepted } = await serving;
  assertEquals(request, { clientId: "vm", protocolName: "get", version: 1 });
  assert(accepted, "accepted");
  assertEquals(toHex(clientEnd.writtenBytes()), "02766d0367657401");
  assertEquals(toHex(serverEnd.writtenBytes()), "027030026f6b");
});

Deno.test("negotiateAsServer() refuses an unknown protocol after sending its id", async () => {
  const { client, server, serverEnd } = packetPair();
  const serving = negotiateAsServer(server, { serverId: "p0", isServed: isGet });
  const error = await assertRejects(
    () => negotiateAsClient(client, { clientId: "vm", protocolName: "init-vol" }),
    RemoteError,
  );
  assertEquals(error.message, "run1stNegotiateAsClient:findServerHandler:bad protocol:init-vol:vm");
  assertEquals((await serving).accepted, false);
  const text = "findServerHandler:bad protocol:init-vol:vm";
  assertEquals(
    toHex(serverEnd.writtenBytes()),
    "027030" + text.length.toString(16).padStart(2, "0") + toHex(new TextEncoder().encode(text)),
  );
});

Deno.test("negotiateAsServer() refuses another version first", async () => {
  const { server, serverEnd } = await packetReading(fromHex("02766d 08696e69742d766f6c 02"));
  const { request, accepted } = await negotiateAsServer(server, {
    serverId: "p0",
    isServed: isGet,
  });
  assertEquals(request.version, 2);
  assertEquals(accepted, false);
  const reply = await packetReading(serverEnd.writtenBytes());
  assertEquals(await reply.server.readString("id"), "p0");
  const text = await reply.server.readString("status");
  assert(text.includes("version differ c/s"), text);
  assert(text.includes(":2:1"), text);
});

Deno.test("negotiationRefusal() accepts served names with version 1", () => {
  assertEquals(
    negotiationRefusal({ clientId: "s0", protocolName: "get", version: 1 }, isGet),
    undefined,
  );
});

Deno.test("readNegotiationRequest() bounds names and rejects truncation", async () => {
  const long = await packetReading(fromHex("81 0010"), { close: false });
  await assertRejects(() => readNegotiationRequest(long.server), LimitExceededError, "client id");
  const empty = await packetReading(new Uint8Array(0));
  await assertRejects(() => readNegotiationRequest(empty.server), ConnectionClosedError);
  const cut = await packetReading(fromHex("02766d 03676574"));
  await assertRejects(() => readNegotiationRequest(cut.server), ConnectionClosedError, "version");
  const half = await packetReading(fromHex("02766d 0367"));
  await assertRejects(() => readNegotiationRequest(half.server), CorruptDataError);
});
