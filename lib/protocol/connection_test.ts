import { AssertionError, LimitExceededError, ProtocolError } from "../errors.ts";
import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { ManualClock } from "../testing/clock.ts";
import { netPipe } from "../testing/net_pipe.ts";
import { type ProtocolHandler, runClient, serveConnection } from "./connection.ts";
import { ConnectionClosedError, ProtocolTimeoutError, RemoteError } from "./errors.ts";
import { fromHex, TEST_TIMEOUT_MS } from "./packet_testing.ts";
import { sendFinalStatus } from "./reply.ts";

const ECHO: ProtocolHandler = async ({ packet }) => {
  const text = await packet.readString("text");
  await sendFinalStatus(packet, text);
};

function setup(handlers: Map<string, ProtocolHandler>) {
  const clock = new ManualClock();
  const [clientEnd, serverEnd] = netPipe();
  const serving = serveConnection(serverEnd, {
    serverId: "s0",
    clock,
    timeoutMs: TEST_TIMEOUT_MS,
    handlers,
  });
  return { clock, clientEnd, serverEnd, serving };
}

Deno.test("serveConnection() and runClient() run one exchange and close", async () => {
  const { clock, clientEnd, serverEnd, serving } = setup(new Map([["echo", ECHO]]));
  const reply = await runClient(
    clientEnd,
    { clock, timeoutMs: TEST_TIMEOUT_MS, clientId: "c0", protocolName: "echo" },
    async (packet, serverId) => {
      assertEquals(serverId, "s0");
      packet.writeString("hello");
      return await packet.readString("reply");
    },
  );
  assertEquals(reply, "hello");
  const outcome = await serving;
  assertEquals(outcome.accepted, true);
  assertEquals(outcome.error, undefined);
  assertEquals(outcome.request?.clientId, "c0");
  assert(clientEnd.isClosed && serverEnd.isClosed, "both ends closed");
});

Deno.test("runClient() reports a refused protocol as RemoteError", async () => {
  const { clock, clientEnd, serving } = setup(new Map([["echo", ECHO]]));
  await assertRejects(
    () =>
      runClient(
        clientEnd,
        { clock, clientId: "c0", protocolName: "init-vol" },
        () => Promise.resolve(),
      ),
    RemoteError,
    "findServerHandler:bad protocol:init-vol:c0",
  );
  assertEquals((await serving).accepted, false);
});

Deno.test("serveConnection() returns operating errors instead of throwing", async () => {
  const silent = setup(new Map());
  silent.clientEnd.close();
  const closed = await silent.serving;
  assert(closed.error instanceof ConnectionClosedError, String(closed.error));
  assertEquals(closed.request, undefined);

  const huge = setup(new Map());
  await huge.clientEnd.write(fromHex("83 ffffffffffffff7f"));
  assert((await huge.serving).error instanceof LimitExceededError, "huge client id");

  const stalled = setup(new Map([["echo", ECHO]]));
  await stalled.clientEnd.write(fromHex("02 6330 04 6563686f 01"));
  await stalled.clock.advance(TEST_TIMEOUT_MS);
  const timedOut = await stalled.serving;
  assert(timedOut.error instanceof ProtocolTimeoutError, String(timedOut.error));
  assert(timedOut.error instanceof ProtocolError, "a timeout is a ProtocolError");
  assertEquals(timedOut.request?.protocolName, "echo");
});

Deno.test("serveConnection() lets bugs through, after closing", async () => {
  const buggy: ProtocolHandler = () => {
    throw new AssertionError("handler invariant");
  };
  const { clientEnd, serverEnd, serving } = setup(new Map([["bug", buggy]]));
  await clientEnd.write(fromHex("02 6330 03 627567 01"));
  await assertRejects(() => serving, AssertionError);
  assert(serverEnd.isClosed, "closed");
});
