import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import { MemoryNet } from "../../testing/net.ts";
import { realClock } from "../../clock.ts";
import { runClient } from "../../protocol/connection.ts";
import { runShutdownClient, runSleepClient, runVersionClient } from "../../protocol/builtin.ts";
import { runGetClient } from "../../protocol/get.ts";
import { RemoteError } from "../../protocol/errors.ts";
import { MemoryLogger } from "./logger.ts";
import { ServerRuntime } from "./server.ts";

const ADDR = { hostname: "s0", port: 5000 };

function makeServer(net: MemoryNet, maxConnections = 10) {
  const logger = new MemoryLogger();
  const runtime = new ServerRuntime({
    role: "archive",
    serverId: "s0",
    clock: realClock,
    net,
    logger,
    listen: ADDR,
    timeoutMs: 2000,
    maxConnections,
    versionDescription: "version:1.0.19",
  });
  runtime.register("get", async (context) => {
    await runtime.serveGet(
      context,
      new Map([["handler-stat", () => Promise.resolve(runtime.stats.takeLines())]]),
    );
  });
  runtime.start();
  return { runtime, logger, done: runtime.run() };
}

async function call<T>(
  net: MemoryNet,
  protocolName: string,
  body: (p: import("../../protocol/packet.ts").Packet) => Promise<T>,
) {
  return await runClient(await net.connect(ADDR), {
    clock: realClock,
    clientId: "ctl",
    protocolName,
    timeoutMs: 2000,
  }, body);
}

Deno.test("ServerRuntime serves built-ins, counts handlers and shuts down gracefully", async () => {
  const net = new MemoryNet();
  const { logger, done } = makeServer(net);
  assertEquals(await call(net, "version", runVersionClient), "version:1.0.19");
  await call(net, "sleep", (p) => runSleepClient(p, 0n));
  const stat = await call(net, "get", (p) => runGetClient(p, ["handler-stat"]));
  assert((stat.value as string[]).includes("PROTOCOL_COUNT\tversion\tctl\t1"), String(stat.value));
  await assertRejects(() => call(net, "nope", () => Promise.resolve()), RemoteError);
  await call(net, "shutdown", (p) => runShutdownClient(p, false));
  await done;
  assert(logger.has("run:Ready to accept connections"));
  assert(logger.has("shutdown walb archive server"));
});

Deno.test("ServerRuntime does not accept past -maxconn until a slot frees", async () => {
  const net = new MemoryNet();
  const { runtime, logger, done } = makeServer(net, 1);
  const sleeping = call(net, "sleep", (p) => runSleepClient(p, 1n));
  await new Promise((r) => setTimeout(r, 50));
  const version = call(net, "version", runVersionClient);
  await new Promise((r) => setTimeout(r, 50));
  assert(logger.has("MultiThreadedServer:exceeds max concurrency"));
  assertEquals(runtime.activeConnections, 1);
  await sleeping;
  assertEquals(await version, "version:1.0.19");
  runtime.requestShutdown(true);
  await done;
});

Deno.test("ServerRuntime force shutdown aborts a running sleep", async () => {
  const net = new MemoryNet();
  const { runtime, done } = makeServer(net);
  const sleeping = call(net, "sleep", (p) => runSleepClient(p, 100n));
  await new Promise((r) => setTimeout(r, 50));
  runtime.requestShutdown(true);
  await sleeping;
  await done;
});

Deno.test("ServerRuntime logs a refused negotiation (wrong version, unknown protocol)", async () => {
  const net = new MemoryNet();
  const { runtime, logger, done } = makeServer(net);
  await assertRejects(() => call(net, "no-such-protocol", () => Promise.resolve()), RemoteError);
  const conn = await net.connect(ADDR);
  const { SerialWriter } = await import("../../format/serializer/mod.ts");
  await conn.write(new SerialWriter().string("ctl").string("version").u32(2).finish());
  await conn.closeWrite();
  while ((await conn.read(new Uint8Array(256))) !== null) { /* the refusal text */ }
  conn.close();
  for (let i = 0; i < 50 && !logger.has("version differ c/s:2"); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert(logger.has("[s0][ctl] findServerHandler:bad protocol:no-such-protocol:ctl"));
  assert(logger.has("[s0][ctl] run1stNegotiateAsServer:version differ c/s:2:1"));
  runtime.requestShutdown(true);
  await done;
});

Deno.test("ServerRuntime escapes a peer's client id and protocol name in its log", async () => {
  const net = new MemoryNet();
  const { runtime, logger, done } = makeServer(net);
  const conn = await net.connect(ADDR);
  const { SerialWriter } = await import("../../format/serializer/mod.ts");
  await conn.write(new SerialWriter().string("x\nINFO forged").string("p\u00e9").u32(1).finish());
  await conn.closeWrite();
  while ((await conn.read(new Uint8Array(256))) !== null) { /* the refusal text */ }
  conn.close();
  for (let i = 0; i < 50 && !logger.has("bad protocol"); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert(logger.has("[s0][x\\x0aINFO forged] findServerHandler:bad protocol:p\\xe9:x\\x0aINFO"));
  runtime.requestShutdown(true);
  await done;
});
