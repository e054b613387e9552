import { UsageError } from "../errors.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../testing/assert.ts";
import { MemoryLogger } from "./backend.ts";
import {
  decodeOptionReply,
  decodeSimpleReply,
  encodeClientFlags,
  encodeInfoRequest,
  encodeOption,
  encodeRequest,
  GREETING_SIZE,
  NBD_CMD_READ,
  NBD_CMD_WRITE,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_OPT_GO,
  NBD_REP_ACK,
} from "./protocol.ts";
import { NbdServer } from "./server.ts";
import { MemoryBackend } from "./testing_backends.ts";

async function readExact(conn: Deno.Conn, length: number): Promise<Uint8Array | null> {
  const out = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const count = await conn.read(out.subarray(filled));
    if (count === null) return null;
    filled += count;
  }
  return out;
}

/** Reads until the peer closes; resolves to the byte count (a closed socket proves it). */
async function drain(conn: Deno.Conn): Promise<number> {
  const buffer = new Uint8Array(65536);
  let total = 0;
  try {
    for (;;) {
      const count = await conn.read(buffer);
      if (count === null) return total;
      total += count;
    }
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionReset) return total;
    throw error;
  }
}

/** Raw client: greeting, flags, GO; leaves the connection in transmission. */
async function connectAndGo(path: string): Promise<Deno.Conn> {
  const conn = await Deno.connect({ transport: "unix", path });
  assert((await readExact(conn, GREETING_SIZE)) !== null);
  await conn.write(encodeClientFlags(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES));
  await conn.write(encodeOption(NBD_OPT_GO, encodeInfoRequest({ name: "", infoTypes: [] })));
  for (;;) {
    const header = (await readExact(conn, 20))!;
    const length = new DataView(header.buffer).getUint32(16);
    const data = length > 0 ? (await readExact(conn, length))! : new Uint8Array(0);
    const reply = new Uint8Array(20 + length);
    reply.set(header);
    reply.set(data, 20);
    if (decodeOptionReply(reply).replyType === NBD_REP_ACK) return conn;
  }
}

function request(type: number, offset: number, length: number, handle: number, data?: Uint8Array) {
  return encodeRequest(
    { flags: 0, type, handleHigh: 0, handleLow: handle, offset, length },
    data,
  );
}

async function withServer(
  test: (
    path: string,
    server: NbdServer,
    backend: MemoryBackend,
    logger: MemoryLogger,
  ) => Promise<void>,
  backend = new MemoryBackend(1 << 20),
  options: { handshakeTimeoutMs?: number } = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nbd-server-test-" });
  const path = `${dir}/nbd.sock`;
  const logger = new MemoryLogger();
  const server = await NbdServer.listen(backend, { unixPath: path, logger, ...options });
  try {
    await test(path, server, backend, logger);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("NbdServer serves a raw client and removes its socket on stop", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nbd-server-test-" });
  const path = `${dir}/nbd.sock`;
  const backend = new MemoryBackend(1 << 20);
  const server = await NbdServer.listen(backend, { unixPath: path, logger: new MemoryLogger() });
  try {
    const conn = await connectAndGo(path);
    await conn.write(request(NBD_CMD_WRITE, 512, 512, 1, new Uint8Array(512).fill(5)));
    await conn.write(request(NBD_CMD_READ, 512, 512, 2));
    // Replies may come in either order.
    const both = (await readExact(conn, 16 + 16 + 512))!;
    const writeFirst = decodeSimpleReply(both).handleLow === 1;
    const writeReply = writeFirst ? both.subarray(0, 16) : both.subarray(16 + 512);
    const readReply = writeFirst ? both.subarray(16) : both.subarray(0, 16 + 512);
    assertEquals(decodeSimpleReply(writeReply), { error: 0, handleHigh: 0, handleLow: 1 });
    assertEquals(decodeSimpleReply(readReply).handleLow, 2);
    assert(readReply.subarray(16).every((byte) => byte === 5));
    conn.close();
  } finally {
    await server.stop();
  }
  assertThrows(() => Deno.statSync(path), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("NbdServer.listen() replaces a stale socket file and refuses a live one or a regular file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nbd-server-test-" });
  try {
    const stale = Deno.listen({ transport: "unix", path: `${dir}/stale.sock` });
    stale.close(); // leaves the file behind, like a crashed server
    const server = await NbdServer.listen(new MemoryBackend(4096), {
      unixPath: `${dir}/stale.sock`,
      logger: new MemoryLogger(),
    });
    await server.stop();
    await Deno.writeTextFile(`${dir}/file`, "x");
    await assertRejects(
      () =>
        NbdServer.listen(new MemoryBackend(4096), {
          unixPath: `${dir}/file`,
          logger: new MemoryLogger(),
        }),
      UsageError,
    );
    await assertRejects(
      () => NbdServer.listen(new MemoryBackend(4096), { logger: new MemoryLogger() }),
      UsageError,
    );
    const live = await NbdServer.listen(new MemoryBackend(4096), {
      unixPath: `${dir}/live.sock`,
      logger: new MemoryLogger(),
    });
    try {
      await assertRejects(
        () =>
          NbdServer.listen(new MemoryBackend(4096), {
            unixPath: `${dir}/live.sock`,
            logger: new MemoryLogger(),
          }),
        UsageError,
        "another server",
      );
    } finally {
      await live.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("NbdServer keeps serving one client while another sends garbage", async () => {
  await withServer(async (path, server) => {
    const good = await connectAndGo(path);
    const bad = await Deno.connect({ transport: "unix", path });
    try {
      await readExact(bad, GREETING_SIZE);
      await bad.write(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
      assertEquals(await drain(bad), 0);
      const truncated = await connectAndGo(path);
      await truncated.write(request(NBD_CMD_WRITE, 0, 4096, 9).subarray(0, 100));
      truncated.closeWrite();
      assertEquals(await drain(truncated), 0);
      truncated.close();
      await good.write(request(NBD_CMD_READ, 0, 512, 7));
      const reply = (await readExact(good, 16 + 512))!;
      assertEquals(decodeSimpleReply(reply), { error: 0, handleHigh: 0, handleLow: 7 });
      assert(server.connectionCount >= 1);
    } finally {
      good.close();
      bad.close();
    }
  });
});

Deno.test("NbdServer closes a client that does not finish the handshake in time", async () => {
  await withServer(
    async (path, _server, _backend, logger) => {
      const slow = await Deno.connect({ transport: "unix", path });
      try {
        assertEquals(await drain(slow), GREETING_SIZE);
        assert(logger.lines.some((line) => line.includes("handshake not finished")));
      } finally {
        slow.close();
      }
    },
    undefined,
    { handshakeTimeoutMs: 50 },
  );
});

Deno.test("NbdServer.stop() answers requests in flight before closing", async () => {
  const backend = new MemoryBackend(1 << 20);
  let release!: () => void;
  let entered!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const started = new Promise<void>((resolve) => entered = resolve);
  backend.readInto = async (_offset, target) => {
    entered();
    await gate;
    target.fill(3);
  };
  const dir = await Deno.makeTempDir({ prefix: "nbd-server-test-" });
  const server = await NbdServer.listen(backend, {
    unixPath: `${dir}/nbd.sock`,
    logger: new MemoryLogger(),
  });
  const conn = await connectAndGo(`${dir}/nbd.sock`);
  try {
    await conn.write(request(NBD_CMD_READ, 0, 512, 1));
    await started;
    const stopped = server.stop();
    release();
    await stopped;
    const reply = (await readExact(conn, 16 + 512))!;
    assertEquals(decodeSimpleReply(reply).error, 0);
    assertEquals(reply[16], 3);
    assertEquals(await drain(conn), 0);
  } finally {
    conn.close();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("NbdServer listens on loopback TCP with a chosen port", async () => {
  const server = await NbdServer.listen(new MemoryBackend(4096), {
    tcp: { port: 0 },
    logger: new MemoryLogger(),
  });
  try {
    const port = server.tcpPort!;
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    assertEquals((await readExact(conn, GREETING_SIZE))!.length, GREETING_SIZE);
    conn.close();
  } finally {
    await server.stop();
  }
});
