import { UsageError } from "../errors.ts";
import { assert, assertEquals, assertThrows, toHex } from "../testing/assert.ts";
import {
  formatVersionDescription,
  parseShutdownParams,
  runShutdownClient,
  runSleepClient,
  runVersionClient,
  serveShutdown,
  serveSleep,
  serveVersion,
} from "./builtin.ts";
import { hasSettled, packetPair } from "./packet_testing.ts";

Deno.test("parseShutdownParams() maps none/graceful/force", () => {
  assertEquals(parseShutdownParams([]), false);
  assertEquals(parseShutdownParams(["graceful"]), false);
  assertEquals(parseShutdownParams(["force"]), true);
  assertThrows(() => parseShutdownParams(["now"]), UsageError);
});

Deno.test("shutdown: bool isForce, then accept with a Fin close", async () => {
  const { client, server, clientEnd, serverEnd } = packetPair();
  let asked: boolean | undefined;
  const serving = serveShutdown(server, (isForce) => asked = isForce);
  await runShutdownClient(client, true);
  client.close();
  assertEquals(await serving, true);
  assertEquals(asked, true);
  assertEquals(toHex(clientEnd.writtenBytes()), "01");
  assertEquals(toHex(serverEnd.writtenBytes()), "06616363657074");
});

Deno.test("sleep: vu64 seconds, ok after the server's clock slept", async () => {
  const { clock, client, server, clientEnd, serverEnd } = packetPair();
  const serving = serveSleep(server, { clock });
  const asking = runSleepClient(client, 3n);
  await clock.advance(2999);
  assert(!(await hasSettled(asking)), "still sleeping");
  await clock.advance(1);
  await asking;
  client.close();
  assertEquals(await serving, 3n);
  assertEquals(toHex(clientEnd.writtenBytes()), "03");
  assertEquals(toHex(serverEnd.writtenBytes()), "026f6b");
});

Deno.test("serveSleep() answers early when the shutdown signal aborts", async () => {
  const { clock, client, server } = packetPair();
  const controller = new AbortController();
  const serving = serveSleep(server, { clock, signal: controller.signal });
  const asking = runSleepClient(client, 2n ** 64n - 1n);
  await new Promise((resolve) => setTimeout(resolve, 0));
  controller.abort(new Error("forced shutdown"));
  await asking;
  client.close();
  assertEquals(await serving, 2n ** 64n - 1n);
});

Deno.test("version: one LTSV string, no params, no ok", async () => {
  const description = formatVersionDescription({
    version: "1.0.19",
    buildDate: "2018-10-31T01:02:03",
    commit: "d7295d2" + "0".repeat(33),
  });
  assertEquals(
    description,
    "version:1.0.19\tbuild_date:2018-10-31T01:02:03\tlog_version:2\tcommit:d7295d2" +
      "0".repeat(33),
  );
  const { client, server, clientEnd } = packetPair();
  const serving = serveVersion(server, description);
  assertEquals(await runVersionClient(client), description);
  client.close();
  await serving;
  assertEquals(clientEnd.writtenBytes().length, 0);
});
