import { AssertionError, UsageError } from "../errors.ts";
import { assertEquals, assertRejects, assertThrows, toHex } from "../testing/assert.ts";
import { RemoteError, RequestError } from "./errors.ts";
import { type GetHandler, getTargetType, runGetClient, serveGet } from "./get.ts";
import { packetPair } from "./packet_testing.ts";
import { runStatusClient, serveStatus } from "./status.ts";

Deno.test("getTargetType() follows table 3.4", () => {
  assertEquals(getTargetType("state"), "string");
  assertEquals(getTargetType("vol"), "lines");
  assertEquals(getTargetType("pid"), "size");
  assertEquals(getTargetType("exists-diff"), "size");
  assertThrows(() => getTargetType("toString"), UsageError);
  assertThrows(() => getTargetType("nope"), UsageError);
});

async function exchange(params: string[], targets: Map<string, GetHandler>) {
  const { client, server, clientEnd, serverEnd } = packetPair();
  const serving = serveGet(server, targets);
  serving.catch(() => {});
  try {
    return { value: await runGetClient(client, params), serving };
  } finally {
    client.close();
    void clientEnd;
    void serverEnd;
  }
}

Deno.test("runGetClient() and serveGet() carry a size value", async () => {
  const { client, server, clientEnd, serverEnd } = packetPair();
  const serving = serveGet(server, new Map([["pid", () => Promise.resolve(1234n)]]));
  assertEquals(await runGetClient(client, ["pid"]), { type: "size", value: 1234n });
  client.close();
  assertEquals(await serving, { target: "pid" });
  assertEquals(toHex(clientEnd.writtenBytes()), "0103706964");
  assertEquals(toHex(serverEnd.writtenBytes()), "026f6b" + "81d204" + "8277616c62");
});

Deno.test("serveGet() sends the error texts of §1.9.3", async () => {
  const targets = new Map<string, GetHandler>([
    ["state", (args) => {
      if (args.length !== 1) throw new RequestError("getState:bad params");
      return Promise.resolve("Clear");
    }],
    ["uuid", () => Promise.reject(new Error("disk on fire"))],
  ]);
  const unknown = await assertRejects(() => exchange(["vol"], targets), RemoteError);
  assertEquals(unknown.message, "c2xGetClient:runGetCommandServer:no such target:vol");
  const bad = await assertRejects(() => exchange(["state"], targets), RemoteError);
  assertEquals(bad.message, "c2xGetClient:getState:bad params");
  const { value } = await exchange(["state", "vol0"], targets);
  assertEquals(value, { type: "string", value: "Clear" });
});

Deno.test("serveGet() rethrows a handler's unexpected error after sending it", async () => {
  const { client, server } = packetPair();
  const serving = serveGet(server, new Map([["uuid", () => Promise.reject(new Error("boom"))]]));
  serving.catch(() => {});
  const error = await assertRejects(() => runGetClient(client, ["uuid", "vol0"]), RemoteError);
  assertEquals(error.message, "c2xGetClient:boom");
  client.close();
  await assertRejects(() => serving, Error, "boom");
});

Deno.test("serveGet() answers an empty target list with an error", async () => {
  const { client, server } = packetPair();
  const serving = serveGet(server, new Map());
  client.writeStringVector([]);
  const text = await client.readString("status");
  client.close();
  assertEquals(text, "runGetCommandServer:no target specified");
  assertEquals(await serving, { target: undefined, error: text });
});

Deno.test("serveGet() asserts that a handler returns its target's type", async () => {
  const { client, server } = packetPair();
  const serving = serveGet(server, new Map([["pid", () => Promise.resolve("1")]]));
  client.writeStringVector(["pid"]);
  await client.flush();
  await assertRejects(() => serving, AssertionError);
});

Deno.test("runStatusClient() and serveStatus() carry the status lines", async () => {
  const { client, server, clientEnd, serverEnd } = packetPair();
  const serving = serveStatus(server, (params) => Promise.resolve([`volume ${params[0]}`]));
  assertEquals(await runStatusClient(client, "vol0"), ["volume vol0"]);
  client.close();
  await serving;
  assertEquals(toHex(clientEnd.writtenBytes()), "0104766f6c30");
  assertEquals(
    toHex(serverEnd.writtenBytes()),
    "026f6b" + "01" + "0b766f6c756d6520766f6c30" + "8277616c62",
  );
  const global = packetPair();
  const globalServing = serveStatus(global.server, (params) => {
    assertEquals(params, []);
    return Promise.reject(new RequestError("no status"));
  });
  await assertRejects(() => runStatusClient(global.client), RemoteError, "no status");
  global.client.close();
  await globalServing;
  assertEquals(toHex(global.clientEnd.writtenBytes()), "00");
});
