import { ProtocolError, UsageError } from "../errors.ts";
import { assert, assertEquals, assertRejects, toHex } from "../testing/assert.ts";
import { RemoteError, RequestError } from "./errors.ts";
import { fromHex, hasSettled, packetPair, packetReading, writtenHex } from "./packet_testing.ts";
import {
  errorText,
  expectStatus,
  finClose,
  readAck,
  readValue,
  receiveStringVector,
  receiveValueReply,
  sendAcceptAsync,
  sendErrorReply,
  sendFinalStatus,
  sendStringVector,
  sendValueReply,
  writeAck,
  writeValue,
} from "./reply.ts";

const hexText = (text: string) => toHex(new TextEncoder().encode(text));

Deno.test("writeAck() writes 82 77 61 6c 62 and readAck() accepts only it", async () => {
  assertEquals(await writtenHex((p) => writeAck(p)), "8277616c62");
  await readAck((await packetReading(fromHex("8277616c62"))).server);
  const wrong = await packetReading(fromHex("8277616c63"));
  await assertRejects(() => readAck(wrong.server), ProtocolError, "0x636c6177");
});

Deno.test("errorText() never yields a special status string", () => {
  assertEquals(errorText("ok"), "error:ok");
  assertEquals(errorText("accept"), "error:accept");
  assertEquals(errorText("different-uuid"), "error:different-uuid");
  assertEquals(errorText(""), "error:");
  assertEquals(errorText("c2sInitVolServer:bad state"), "c2sInitVolServer:bad state");
});

Deno.test("writeValue() writes vu64, str and strvec", async () => {
  assertEquals(await writtenHex((p) => writeValue(p, { type: "size", value: 4096n })), "810010");
  assertEquals(
    await writtenHex((p) => writeValue(p, { type: "string", value: "proxy" })),
    "0570726f7879",
  );
  assertEquals(
    await writtenHex((p) => writeValue(p, { type: "lines", value: ["vol0"] })),
    "0104766f6c30",
  );
  assertEquals(await writtenHex((p) => writeValue(p, { type: "lines", value: [] })), "00");
  const { server } = await packetReading(fromHex("810010 0570726f7879 0104766f6c30"));
  assertEquals(await readValue(server, "size"), 4096n);
  assertEquals(await readValue(server, "string"), "proxy");
  assertEquals(await readValue(server, "lines"), ["vol0"]);
});

Deno.test("sendValueReply() writes ok, value, ack and does a Fin close", async () => {
  const { client, server, serverEnd, clientEnd } = packetPair();
  const replying = sendValueReply(server, { type: "string", value: "Stopped" });
  assertEquals(await receiveValueReply(client, "string", "test"), "Stopped");
  assert(serverEnd.isWriteShutdown, "half-closed after the ack");
  assert(!(await hasSettled(replying)), "waits for the client's close");
  client.close();
  await replying;
  assert(serverEnd.isClosed, "closed after the peer's EOF");
  assertEquals(toHex(serverEnd.writtenBytes()), "026f6b0753746f707065648277616c62");
  assertEquals(clientEnd.writtenBytes().length, 0);
});

Deno.test("finClose() reports a peer that sends a byte instead of closing", async () => {
  const { server, clientEnd, serverEnd } = packetPair();
  const closing = finClose(server);
  await clientEnd.write(Uint8Array.of(0));
  await assertRejects(() => closing, ProtocolError, "instead of closing");
  assert(serverEnd.isClosed, "closed anyway");
});

Deno.test("sendAcceptAsync(), sendFinalStatus() and sendErrorReply() write one string", async () => {
  for (
    const [send, hex] of [
      [(p: Parameters<typeof sendAcceptAsync>[0]) => sendAcceptAsync(p), "06616363657074"],
      [(p: Parameters<typeof sendAcceptAsync>[0]) => sendFinalStatus(p, "ok"), "026f6b"],
      [
        (p: Parameters<typeof sendAcceptAsync>[0]) => sendErrorReply(p, "bad:x"),
        "05" + hexText("bad:x"),
      ],
    ] as const
  ) {
    const { server, serverEnd, clientEnd } = packetPair();
    const sending = send(server);
    clientEnd.close();
    await sending;
    assertEquals(toHex(serverEnd.writtenBytes()), hex);
  }
});

Deno.test("sendStringVector() checks params locally and reads the confirmation", async () => {
  const { client, clientEnd } = packetPair();
  await assertRejects(() => sendStringVector(client, ["vol0", ""]), UsageError, "empty");
  await assertRejects(() => sendStringVector(client, ["a"], { count: 2 }), UsageError, "size");
  assertEquals(clientEnd.writtenBytes().length, 0);

  const pair = packetPair();
  const sending = sendStringVector(pair.client, ["vol0"], { confirm: "accept", context: "ctx" });
  assertEquals(await receiveStringVector(pair.server, { count: 1 }), ["vol0"]);
  pair.server.writeString("c2sStartServer:bad state");
  await pair.server.flush();
  const error = await assertRejects(() => sending, RemoteError);
  assertEquals(error.message, "ctx:c2sStartServer:bad state");
  assertEquals(toHex(pair.clientEnd.writtenBytes()), "0104766f6c30");
});

Deno.test("receiveStringVector() rejects a wrong count or an empty element", async () => {
  const counted = await packetReading(fromHex("02 0161 0162"));
  await assertRejects(
    () => receiveStringVector(counted.server, { count: 1 }),
    RequestError,
    "bad size:2:1",
  );
  const empty = await packetReading(fromHex("02 0161 00"));
  await assertRejects(() => receiveStringVector(empty.server), RequestError, "empty string:1");
});

Deno.test("expectStatus() passes the expected string and reports others", async () => {
  const { server } = await packetReading(fromHex("026f6b 0e" + hexText("different-uuid")));
  await expectStatus(server, "ok", "x");
  const error = await assertRejects(() => expectStatus(server, "accept", "x"), RemoteError);
  assertEquals(error.remoteMessage, "different-uuid");
});
