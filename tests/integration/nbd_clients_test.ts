/**
 * The NBD server against real clients from Debian packages: nbdinfo, nbdcopy, nbdfuse
 * (libnbd-bin), qemu-io and qemu-img (qemu-utils), plus raw malformed bytes. Each test
 * skips, saying why, when its client is missing. Every client runs under a timeout and
 * every test cleans up (kills clients, unmounts, removes sockets) in `finally`.
 */
import { assert, assertEquals } from "../../lib/testing/assert.ts";
import { MemoryLogger } from "../../lib/nbd/backend.ts";
import {
  decodeOptionReply,
  decodeSimpleReply,
  encodeClientFlags,
  encodeInfoRequest,
  encodeOption,
  encodeRequest,
  GREETING_SIZE,
  NBD_CMD_READ,
  NBD_EINVAL,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_OPT_GO,
  NBD_OPT_LIST,
  NBD_REP_ACK,
  NBD_REP_ERR_TOO_BIG,
} from "../../lib/nbd/protocol.ts";
import { NbdServer } from "../../lib/nbd/server.ts";
import { FileBackend, MemoryBackend } from "../../lib/nbd/testing_backends.ts";

const MiB = 1 << 20;
const CLIENT_TIMEOUT_MS = 60_000;

function have(binary: string): boolean {
  const found = new Deno.Command("sh", { args: ["-c", `command -v ${binary}`], stdout: "null" })
    .outputSync().success;
  if (!found) console.log(`skip: ${binary} is not installed (apt-get install the client package)`);
  return found;
}

const HAVE = {
  nbdinfo: have("nbdinfo"),
  nbdcopy: have("nbdcopy"),
  nbdfuse: have("nbdfuse") && have("fusermount3") && have("mkfs.ext4"),
  qemuIo: have("qemu-io"),
  qemuImg: have("qemu-img"),
};

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a client, killing it after `timeoutMs`; throws unless it exits 0 (unless allowed). */
async function run(
  cmd: string,
  args: string[],
  options: { timeoutMs?: number; allowFailure?: boolean } = {},
): Promise<Output> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? CLIENT_TIMEOUT_MS);
  try {
    const output = await new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
    const result = {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout),
      stderr: new TextDecoder().decode(output.stderr),
    };
    if (controller.signal.aborted) throw new Error(`${cmd} timed out: ${result.stderr}`);
    if (!output.success && options.allowFailure !== true) {
      throw new Error(`${cmd} ${args.join(" ")} exited ${output.code}: ${result.stderr}`);
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
}

function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let offset = 0; offset < length; offset += 65536) {
    crypto.getRandomValues(bytes.subarray(offset, Math.min(length, offset + 65536)));
  }
  return bytes;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

interface Fixture {
  dir: string;
  socket: string;
  uri: string;
  tcpUri: string;
  server: NbdServer;
  logger: MemoryLogger;
}

/** Starts a server on a unix socket and loopback TCP; always stops it and removes the dir. */
async function withServer(
  backend: MemoryBackend | FileBackend,
  test: (fixture: Fixture) => Promise<void>,
  exportName = "",
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "nbd-clients-" });
  const socket = `${dir}/nbd.sock`;
  const logger = new MemoryLogger();
  const server = await NbdServer.listen(backend, {
    unixPath: socket,
    tcp: { port: 0 },
    exportName,
    logger,
  });
  try {
    await test({
      dir,
      socket,
      uri: `nbd+unix:///${exportName}?socket=${socket}`,
      tcpUri: `nbd://127.0.0.1:${server.tcpPort}/${exportName}`,
      server,
      logger,
    });
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
  assert(!logger.lines.some((line) => line.startsWith("error:")), logger.lines.join("\n"));
}

Deno.test({
  name: "nbdinfo shows the size and block sizes of the export",
  ignore: !HAVE.nbdinfo,
  async fn() {
    const backend = new MemoryBackend(64 * MiB);
    await withServer(backend, async ({ uri, tcpUri }) => {
      for (const target of [uri, tcpUri]) {
        const info = JSON.parse((await run("nbdinfo", ["--json", target])).stdout);
        const item = info.exports[0];
        assertEquals(item["export-name"], "walb0");
        assertEquals(item["export-size"], 64 * MiB);
        assertEquals(item["block_size_minimum"], 512);
        assertEquals(item["block_size_preferred"], 4096);
        assertEquals(item["block_size_maximum"], 32 * MiB);
        assertEquals(item["can_flush"], true);
        assertEquals(item["can_fua"], true);
        assertEquals(item["can_trim"], true);
        assertEquals(item["can_zero"], true);
        assertEquals(item["is_read_only"], false);
      }
      const list = await run("nbdinfo", ["--list", "--json", uri]);
      assertEquals(JSON.parse(list.stdout).exports[0]["export-name"], "walb0");
    }, "walb0");
  },
});

Deno.test({
  name: "nbdcopy writes a random file into the export and reads it back equal",
  ignore: !HAVE.nbdcopy,
  async fn() {
    const backend = new MemoryBackend(32 * MiB);
    await withServer(backend, async ({ dir, uri }) => {
      const data = randomBytes(32 * MiB);
      await Deno.writeFile(`${dir}/in.img`, data);
      await run("nbdcopy", ["--flush", `${dir}/in.img`, uri]);
      assertEquals(await sha256(backend.bytes), await sha256(data));
      assert(backend.counters.flushes >= 1);
      await run("nbdcopy", [uri, `${dir}/out.img`]);
      assertEquals(await sha256(await Deno.readFile(`${dir}/out.img`)), await sha256(data));
    });
  },
});

Deno.test({
  name: "nbdcopy round-trips through the file backend",
  ignore: !HAVE.nbdcopy,
  async fn() {
    const image = await Deno.makeTempFile({ prefix: "nbd-file-backend-" });
    const backend = await FileBackend.open(image, { sizeBytes: 16 * MiB });
    try {
      await withServer(backend, async ({ dir, uri }) => {
        const data = randomBytes(16 * MiB);
        await Deno.writeFile(`${dir}/in.img`, data);
        await run("nbdcopy", ["--flush", `${dir}/in.img`, uri]);
        assertEquals(await sha256(await Deno.readFile(image)), await sha256(data));
        await run("nbdcopy", [uri, `${dir}/out.img`]);
        assertEquals(await sha256(await Deno.readFile(`${dir}/out.img`)), await sha256(data));
      });
    } finally {
      backend.close();
      await Deno.remove(image);
    }
  },
});

Deno.test({
  name: "qemu-io writes and reads patterns, FUA writes, discards and zeroes",
  ignore: !HAVE.qemuIo,
  async fn() {
    const backend = new MemoryBackend(16 * MiB);
    await withServer(backend, async ({ uri, tcpUri }) => {
      const output = await run("qemu-io", [
        "-f",
        "raw",
        uri,
        "-c",
        "write -P 0xab 0 1M",
        "-c",
        "read -P 0xab 0 1M",
        "-c",
        "write -f -P 0xcd 1M 64k",
        "-c",
        "flush",
        "-c",
        "discard 0 64k",
        "-c",
        "read -P 0 0 64k",
        "-c",
        "write -z 64k 64k",
        "-c",
        "read -P 0 64k 64k",
        "-c",
        "read -P 0xab 128k 896k",
        "-c",
        "read -P 0xcd 1M 64k",
        "-c",
        "aio_write -P 0x11 2M 4k",
        "-c",
        "aio_write -P 0x22 3M 4k",
        "-c",
        "aio_flush",
        "-c",
        "read -P 0x11 2M 4k",
        "-c",
        "read -P 0x22 3M 4k",
      ]);
      assert(!output.stdout.includes("Pattern verification failed"), output.stdout);
      assert(!output.stderr.includes("failed"), output.stderr);
      assert(backend.counters.fuaWrites >= 1, "a FUA write reached the backend");
      assert(backend.counters.trims >= 1, "a discard reached the backend");
      assertEquals(backend.bytes[0], 0);
      assertEquals(backend.bytes[128 * 1024], 0xab);
      assertEquals(backend.bytes[MiB], 0xcd);
      // Same over TCP; a read past the end fails cleanly.
      const tcp = await run("qemu-io", ["-f", "raw", tcpUri, "-c", "read -P 0xcd 1M 64k"]);
      assert(!tcp.stdout.includes("Pattern verification failed"), tcp.stdout);
      const past = await run(
        "qemu-io",
        ["-f", "raw", uri, "-c", "read 16M 4k"],
        { allowFailure: true },
      );
      assert(past.stdout.includes("read failed"), past.stdout);
    });
  },
});

Deno.test({
  name: "qemu-img convert copies an image into the export and back out",
  ignore: !HAVE.qemuImg,
  async fn() {
    const backend = new MemoryBackend(8 * MiB);
    await withServer(backend, async ({ dir, uri, tcpUri }) => {
      const data = randomBytes(8 * MiB);
      data.fill(0, 2 * MiB, 4 * MiB); // a zero run: qemu-img writes it as zeroes or skips it
      backend.bytes.fill(0x5a);
      await Deno.writeFile(`${dir}/in.img`, data);
      await run("qemu-img", ["convert", "-n", "-f", "raw", "-O", "raw", `${dir}/in.img`, uri]);
      assertEquals(await sha256(backend.bytes), await sha256(data));
      await run("qemu-img", ["convert", "-f", "raw", "-O", "raw", tcpUri, `${dir}/out.img`]);
      assertEquals(await sha256(await Deno.readFile(`${dir}/out.img`)), await sha256(data));
      const info = JSON.parse(
        (await run("qemu-img", ["info", "--output=json", "-f", "raw", uri])).stdout,
      );
      assertEquals(info["virtual-size"], 8 * MiB);
    });
  },
});

async function isMountPoint(path: string): Promise<boolean> {
  return (await run("mountpoint", ["-q", path], { allowFailure: true })).code === 0;
}

Deno.test({
  name: "nbdfuse exposes the export as a file that holds a mounted ext4 filesystem",
  ignore: !HAVE.nbdfuse || Deno.uid() !== 0,
  async fn() {
    const backend = new MemoryBackend(64 * MiB);
    await withServer(backend, async ({ dir, socket }) => {
      const fuseDir = `${dir}/fuse`;
      const mountDir = `${dir}/mnt`;
      await Deno.mkdir(fuseDir);
      await Deno.mkdir(mountDir);
      const disk = `${fuseDir}/disk`;
      const nbdfuse = new Deno.Command("nbdfuse", {
        args: ["-P", `${dir}/nbdfuse.pid`, disk, "--unix", socket],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      let mounted = false;
      try {
        for (let tries = 0; tries < 100 && !(await isMountPoint(fuseDir)); tries++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert(await isMountPoint(fuseDir), "nbdfuse mounted");
        await run("mkfs.ext4", ["-q", "-F", "-b", "4096", disk]);
        await run("mount", ["-o", "loop", disk, mountDir]);
        mounted = true;
        const payload = randomBytes(5 * MiB + 123);
        await Deno.writeFile(`${mountDir}/payload.bin`, payload);
        await Deno.writeTextFile(`${mountDir}/hello.txt`, "hello from walb-ts nbd\n");
        await run("umount", [mountDir]);
        mounted = false;
        const viaFuse = await sha256(await Deno.readFile(disk));
        assertEquals(viaFuse, await sha256(backend.bytes));
        // The backend content alone is a clean filesystem holding the file.
        await Deno.writeFile(`${dir}/copy.img`, backend.bytes);
        await run("e2fsck", ["-f", "-n", `${dir}/copy.img`]);
        await run("debugfs", ["-R", `dump /payload.bin ${dir}/payload.out`, `${dir}/copy.img`]);
        assertEquals(
          await sha256(await Deno.readFile(`${dir}/payload.out`)),
          await sha256(payload),
        );
      } finally {
        if (mounted) await run("umount", ["-l", mountDir], { allowFailure: true });
        await run("fusermount3", ["-u", fuseDir], { allowFailure: true });
        const timer = setTimeout(() => nbdfuse.kill("SIGKILL"), 10_000);
        await nbdfuse.status;
        clearTimeout(timer);
        await nbdfuse.stderr.cancel();
      }
    });
  },
});

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

/** Reads until the server closes; returns the bytes received. */
async function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: number[] = [];
  const buffer = new Uint8Array(4096);
  try {
    for (;;) {
      const count = await conn.read(buffer);
      if (count === null) break;
      chunks.push(...buffer.subarray(0, count));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
  }
  return Uint8Array.from(chunks);
}

async function raw(socket: string, test: (conn: Deno.Conn) => Promise<void>): Promise<void> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  try {
    assert((await readExact(conn, GREETING_SIZE)) !== null, "greeting");
    await test(conn);
  } finally {
    conn.close();
  }
}

const FLAGS = encodeClientFlags(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);

Deno.test({
  name: "malformed client bytes get an error or a closed connection; others keep working",
  ignore: !HAVE.nbdinfo,
  async fn() {
    const backend = new MemoryBackend(4 * MiB);
    await withServer(backend, async ({ socket, uri, server }) => {
      // A long-lived good client is connected throughout.
      await raw(socket, async (good) => {
        await good.write(FLAGS);
        await good.write(encodeOption(NBD_OPT_GO, encodeInfoRequest({ name: "", infoTypes: [] })));
        for (;;) {
          const header = (await readExact(good, 20))!;
          const view = new DataView(header.buffer);
          const length = view.getUint32(16);
          if (length > 0) await readExact(good, length);
          if (view.getUint32(12) === NBD_REP_ACK) break;
        }

        // Bad option magic: closed without a reply.
        await raw(socket, async (conn) => {
          const bad = encodeOption(NBD_OPT_LIST);
          bad[0] = 0;
          await conn.write(FLAGS);
          await conn.write(bad);
          assertEquals((await readToEnd(conn)).length, 0);
        });
        // Huge option length: NBD_REP_ERR_TOO_BIG, then closed, nothing read from the client.
        await raw(socket, async (conn) => {
          const huge = encodeOption(NBD_OPT_GO);
          new DataView(huge.buffer).setUint32(12, 0xfffffff0);
          await conn.write(FLAGS);
          await conn.write(huge);
          const reply = decodeOptionReply(await readToEnd(conn));
          assertEquals(reply.replyType, NBD_REP_ERR_TOO_BIG);
        });
        // Garbage instead of client flags.
        await raw(socket, async (conn) => {
          await conn.write(new Uint8Array(64).fill(0xff));
          assertEquals((await readToEnd(conn)).length, 0);
        });
        // Read past the end: EINVAL; then a truncated request: closed.
        await good.write(encodeRequest({
          flags: 0,
          type: NBD_CMD_READ,
          handleHigh: 1,
          handleLow: 2,
          offset: 4 * MiB,
          length: 4096,
        }));
        const reply = decodeSimpleReply((await readExact(good, 16))!);
        assertEquals(reply, { error: NBD_EINVAL, handleHigh: 1, handleLow: 2 });
        const info = JSON.parse((await run("nbdinfo", ["--json", uri])).stdout);
        assertEquals(info.exports[0]["export-size"], 4 * MiB);
        await good.write(new Uint8Array(10).fill(0x25));
        await good.closeWrite();
        assertEquals((await readToEnd(good)).length, 0);
      });
      for (let tries = 0; tries < 50 && server.connectionCount > 0; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assertEquals(server.connectionCount, 0);
    });
  },
});
