import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import { MemoryNet } from "../../testing/net.ts";
import { realClock } from "../../clock.ts";
import { runClient } from "../../protocol/connection.ts";
import { runShutdownClient } from "../../protocol/builtin.ts";
import { RemoteError, RequestError } from "../../protocol/errors.ts";
import { receiveValueReply, sendStringVector } from "../../protocol/reply.ts";
import { MemoryLogger } from "./logger.ts";
import { ServerRuntime } from "./server.ts";
import { runExecProgram } from "./exec.ts";

const ADDR = { hostname: "s0", port: 5000 };

async function withServer(allowExec: boolean, body: (net: MemoryNet) => Promise<void>) {
  const net = new MemoryNet();
  const runtime = new ServerRuntime({
    role: "archive",
    serverId: "s0",
    clock: realClock,
    net,
    logger: new MemoryLogger(),
    listen: ADDR,
    timeoutMs: 5000,
    versionDescription: "version:1.0.19",
    allowExec,
  });
  runtime.start();
  const done = runtime.run();
  try {
    await body(net);
  } finally {
    await runClient(await net.connect(ADDR), {
      clock: realClock,
      clientId: "ctl",
      protocolName: "shutdown",
    }, (p) => runShutdownClient(p, false));
    await done;
  }
}

async function exec(net: MemoryNet, argv: string[]): Promise<string[]> {
  return await runClient(await net.connect(ADDR), {
    clock: realClock,
    clientId: "ctl",
    protocolName: "exec",
    timeoutMs: 5000,
  }, async (packet) => {
    await sendStringVector(packet, argv);
    return await receiveValueReply(packet, "lines", "exec");
  });
}

Deno.test("ServerRuntime exec is refused without -allow-exec", async () => {
  await withServer(false, async (net) => {
    const error = await assertRejects(() => exec(net, ["/bin/echo", "x"]), RemoteError);
    assert(error.message.includes("exec command is not allowed"), error.message);
  });
});

Deno.test("ServerRuntime exec runs the program with -allow-exec", async () => {
  await withServer(true, async (net) => {
    assertEquals(await exec(net, ["/bin/sh", "-c", "echo a; echo; printf 'b\\r\\nc'"]), [
      "a",
      "b",
      "c",
    ]);
    const failed = await assertRejects(
      () => exec(net, ["/bin/sh", "-c", "echo oops >&2; exit 3"]),
      RemoteError,
    );
    assert(failed.message.includes("exit status 3"), failed.message);
    assert(failed.message.includes("oops"), failed.message);
    assert(failed.message.includes("/bin/sh -c"), failed.message);
    const relative = await assertRejects(() => exec(net, ["echo", "x"]), RemoteError);
    assert(relative.message.includes("not an absolute path"), relative.message);
  });
});

Deno.test("runExecProgram() reads stdin from /dev/null and bounds time and output", async () => {
  assertEquals(await runExecProgram(["/bin/cat"], { clock: realClock }), []);
  const slow = await assertRejects(
    () => runExecProgram(["/bin/sleep", "10"], { clock: realClock, timeoutMs: 100 }),
    RequestError,
  );
  assert(slow.message.includes("timeout"), slow.message);
  const big = await assertRejects(
    () => runExecProgram(["/bin/sh", "-c", "yes"], { clock: realClock, outputBytesMax: 1 << 16 }),
    RequestError,
  );
  assert(big.message.includes("output over 65536 bytes"), big.message);
  const missing = await assertRejects(
    () => runExecProgram(["/nonexistent/program"], { clock: realClock }),
    RequestError,
  );
  assert(missing.message.includes("cannot run"), missing.message);
});
