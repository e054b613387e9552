/**
 * A real `walb archive` process on loopback TCP: malformed peers (garbage, unknown protocol,
 * wrong version, huge length) get an error or a closed connection, and the server keeps
 * serving; `shutdown` ends the process with status 0.
 */
import { assert, assertEquals, assertRejects } from "../../lib/testing/assert.ts";
import { realClock } from "../../lib/clock.ts";
import { DenoNet } from "../../lib/net.ts";
import { runClient } from "../../lib/protocol/connection.ts";
import { runShutdownClient, runVersionClient } from "../../lib/protocol/builtin.ts";
import { RemoteError } from "../../lib/protocol/errors.ts";
import { serialize } from "../../lib/format/serializer/mod.ts";
import { command, type Endpoint, get, request } from "./archive_client.ts";
import { receiveValueReply, sendStringVector } from "../../lib/protocol/reply.ts";

const MAIN = new URL("../../cmd/main.ts", import.meta.url).pathname;
const DENO = new URL("../../node_modules/.bin/deno", import.meta.url).pathname;

async function rawExchange(port: number, bytes: Uint8Array): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(bytes);
    const chunks: number[] = [];
    const buffer = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      chunks.push(...buffer.subarray(0, n));
    }
    return Uint8Array.from(chunks);
  } finally {
    conn.close();
  }
}

Deno.test("walb archive process survives malformed peers and shuts down", async () => {
  const baseDir = await Deno.makeTempDir({ prefix: "walb-archive-proc-" });
  const port = 20000 + (Deno.pid % 20000);
  const child = new Deno.Command(DENO, {
    args: [
      "run",
      "--allow-all",
      MAIN,
      "archive",
      "-b",
      baseDir,
      "-p",
      String(port),
      "-id",
      "a0",
      "-to",
      "2",
    ],
    env: { DENO_NO_PACKAGE_JSON: "1" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const net = new DenoNet({ clock: realClock });
  const endpoint: Endpoint = { net, addr: { hostname: "127.0.0.1", port } };
  try {
    for (let i = 0;; i++) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        break;
      } catch (error) {
        if (i > 200) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    // garbage: the server closes (it cannot parse a negotiation)
    await rawExchange(port, new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
    // huge length of the client id
    await rawExchange(port, Uint8Array.of(0x83, 0, 0, 0, 0, 0, 0, 0, 1));
    // wrong version: server id then an error text
    const wrongVersion = await rawExchange(
      port,
      serialize((w) => w.string("ctl").string("version").u32(2)),
    );
    assert(new TextDecoder().decode(wrongVersion).includes("version differ c/s"));
    // unknown protocol
    await assertRejects(() => command(endpoint, "wlog-transfer", []), RemoteError);
    // still serving
    assertEquals(await get(endpoint, ["host-type"], "string"), "archive");
    assertEquals(await get(endpoint, ["state", "vol0"], "string"), "Clear");
    const conn = await net.connect(endpoint.addr, { timeoutMs: 2000 });
    const text = await runClient(conn, {
      clock: realClock,
      clientId: "ctl",
      protocolName: "version",
    }, runVersionClient);
    assert(text.startsWith("version:1.0.19"), text);
    const shutdownConn = await net.connect(endpoint.addr, { timeoutMs: 2000 });
    await runClient(shutdownConn, {
      clock: realClock,
      clientId: "ctl",
      protocolName: "shutdown",
    }, (p) => runShutdownClient(p, false));
    const status = await child.status;
    assertEquals(status.code, 0);
  } finally {
    try {
      child.kill();
    } catch { /* already exited */ }
    await child.stderr.cancel().catch(() => {});
    await Deno.remove(baseDir, { recursive: true });
  }
});

/** Starts `walb archive` with its log in `<baseDir>/archive.log` and waits until it accepts. */
async function startArchive(
  baseDir: string,
  port: number,
  extraArgs: string[] = [],
): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(DENO, {
    args: [
      "run",
      "--allow-all",
      MAIN,
      "archive",
      "-b",
      baseDir,
      "-p",
      String(port),
      "-id",
      "a0",
      "-l",
      "archive.log",
      ...extraArgs,
    ],
    env: { DENO_NO_PACKAGE_JSON: "1" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  // Ready = a request answered, not a bare connect: the server probes its port by listening
  // once before it installs its signal handlers, and a connect to that probe is no proof.
  const endpoint: Endpoint = {
    net: new DenoNet({ clock: realClock }),
    addr: { hostname: "127.0.0.1", port },
  };
  for (let i = 0;; i++) {
    try {
      assertEquals(await get(endpoint, ["host-type"], "string"), "archive");
      return child;
    } catch (error) {
      if (i > 200) {
        child.kill();
        await child.status;
        throw error;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

for (const signal of ["SIGABRT", "SIGQUIT"] as const) {
  Deno.test(`walb archive process shuts down cleanly on ${signal}`, async () => {
    const baseDir = await Deno.makeTempDir({ prefix: "walb-archive-sig-" });
    const port = 20000 + ((Deno.pid + (signal === "SIGABRT" ? 7 : 11)) % 20000);
    const child = await startArchive(baseDir, port);
    try {
      child.kill(signal);
      const status = await child.status;
      assertEquals(status.code, 0);
      assertEquals(status.signal, null);
      const log = await Deno.readTextFile(`${baseDir}/archive.log`);
      assert(log.includes("shutdown walb archive server"), log);
    } finally {
      try {
        child.kill();
      } catch { /* already exited */ }
      await Deno.remove(baseDir, { recursive: true });
    }
  });
}

Deno.test("walb archive process logs its version and every option value at startup", async () => {
  const baseDir = await Deno.makeTempDir({ prefix: "walb-archive-log-" });
  const port = 20000 + ((Deno.pid + 13) % 20000);
  const child = await startArchive(baseDir, port, ["-discard", "zero", "-fg", "3", "-allow-exec"]);
  try {
    // -allow-exec reaches the server: exec runs the program
    const endpoint: Endpoint = {
      net: new DenoNet({ clock: realClock }),
      addr: { hostname: "127.0.0.1", port },
    };
    const lines = await request(endpoint, "exec", async (p) => {
      await sendStringVector(p, ["/bin/echo", "hello"]);
      return await receiveValueReply(p, "lines", "exec");
    });
    assertEquals(lines, ["hello"]);
    child.kill("SIGTERM");
    assertEquals((await child.status).code, 0);
    const log = await Deno.readTextFile(`${baseDir}/archive.log`);
    assert(log.includes("INFO starting walb archive server\n"), log);
    assert(
      log.includes("INFO version:1.0.19\tbuild_date:2018-10-31T00:00:00\tlog_version:2\n"),
      log,
    );
    for (
      const line of [
        `-p=${port}`,
        `-b=${baseDir}`,
        "-l=archive.log",
        "-id=a0",
        "-discard=zero",
        "-fg=3",
        "-maxconn=10",
        "-debug=false",
        "-sync-cmpr=snappy:0:1",
        "-allow-exec=true",
      ]
    ) {
      assert(log.includes(`\n${line}\n`), `missing ${line} in\n${log}`);
    }
  } finally {
    try {
      child.kill();
    } catch { /* already exited */ }
    await Deno.remove(baseDir, { recursive: true });
  }
});
