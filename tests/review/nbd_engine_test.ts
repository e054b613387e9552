/**
 * Review of the NBD buffer reuse (BufferPool read replies, write payload buffers reused for a
 * backend that copies, replies coalesced, cached reads answered synchronously) in front of the
 * userland WalB engine over files: a raw client pipelines many writes of distinct patterns
 * (the payload buffers are recycled while earlier writes are still being logged), then
 * pipelines reads of every block, some while the applier still works. Every reply must carry
 * its own request's bytes, and the device must hold every acknowledged write.
 */
import { PosixFileDevice } from "../../lib/device/block/posix_file_device.ts";
import { WalbNbdBackend } from "../../lib/device/userland/nbd_backend.ts";
import { formatLdev, WalbEngine } from "../../lib/device/walb/mod.ts";
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
  NBD_CMD_WRITE,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_OPT_GO,
  NBD_REP_ACK,
  SIMPLE_REPLY_HEADER_SIZE,
} from "../../lib/nbd/protocol.ts";
import { NbdServer } from "../../lib/nbd/server.ts";
import { realClock } from "../../lib/clock.ts";
import { assert, assertEquals } from "../../lib/testing/assert.ts";
import { seededPrng } from "../../lib/testing/random.ts";

async function readExact(conn: Deno.Conn, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const count = await conn.read(out.subarray(filled));
    assert(count !== null, "server closed early");
    filled += count;
  }
  return out;
}

async function connectAndGo(path: string): Promise<Deno.Conn> {
  const conn = await Deno.connect({ transport: "unix", path });
  await readExact(conn, GREETING_SIZE);
  await conn.write(encodeClientFlags(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES));
  await conn.write(encodeOption(NBD_OPT_GO, encodeInfoRequest({ name: "", infoTypes: [] })));
  for (;;) {
    const header = await readExact(conn, 20);
    const length = new DataView(header.buffer).getUint32(16);
    const data = length > 0 ? await readExact(conn, length) : new Uint8Array(0);
    const reply = new Uint8Array(20 + length);
    reply.set(header);
    reply.set(data, 20);
    if (decodeOptionReply(reply).replyType === NBD_REP_ACK) return conn;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
}

function request(type: number, offset: number, length: number, handle: number, data?: Uint8Array) {
  return encodeRequest({ flags: 0, type, handleHigh: 0, handleLow: handle, offset, length }, data);
}

const DEVICE_BYTES = 4 << 20;

Deno.test("review: NBD over the WalB engine returns each request's own bytes under pipelining", async () => {
  const prng = seededPrng("review nbd engine");
  const dir = await Deno.makeTempDir({ dir: "/var/tmp" });
  await Deno.writeFile(`${dir}/ldev`, new Uint8Array(0));
  await Deno.truncate(`${dir}/ldev`, 16 << 20);
  await Deno.writeFile(`${dir}/ddev`, new Uint8Array(0));
  await Deno.truncate(`${dir}/ddev`, DEVICE_BYTES);
  const ldev = await PosixFileDevice.open(`${dir}/ldev`);
  const ddev = await PosixFileDevice.open(`${dir}/ddev`, { syncWriteSizeMaxBytes: 64 * 1024 });
  await formatLdev(ldev, ddev, { name: "review" });
  const engine = await WalbEngine.open(ldev, ddev, { clock: realClock });
  const logger = new MemoryLogger();
  const server = await NbdServer.listen(new WalbNbdBackend(engine), {
    unixPath: `${dir}/nbd.sock`,
    logger,
  });
  const model = new Uint8Array(DEVICE_BYTES);
  try {
    const conn = await connectAndGo(`${dir}/nbd.sock`);
    try {
      for (let round = 0; round < 6; round++) {
        // Pipelined writes to distinct blocks (same sizes, so payload buffers are recycled).
        const size = [4096, 65536, 512, 1 << 20][round % 4]!;
        const slots = DEVICE_BYTES / size;
        const chosen = new Set<number>();
        while (chosen.size < Math.min(48, slots)) chosen.add(prng.int(slots));
        const writes: Uint8Array[] = [];
        let handle = 1;
        for (const slot of chosen) {
          const data = prng.bytes(size);
          model.set(data, slot * size);
          writes.push(request(NBD_CMD_WRITE, slot * size, size, handle++, data));
        }
        const sending = (async () => {
          for (const bytes of writes) await writeAll(conn, bytes);
        })();
        const acks = await readExact(conn, writes.length * SIMPLE_REPLY_HEADER_SIZE);
        await sending;
        for (let i = 0; i < writes.length; i++) {
          assertEquals(decodeSimpleReply(acks, i * SIMPLE_REPLY_HEADER_SIZE).error, 0);
        }
        // Pipelined reads of random ranges, answered in any order, while the ddev is applied.
        const reads = new Map<number, { offset: number; length: number }>();
        const readRequests: Uint8Array[] = [];
        for (let i = 0; i < 64; i++) {
          const length = 512 * prng.range(1, prng.chance(0.1) ? 2048 : 16);
          const offset = 512 * prng.int((DEVICE_BYTES - length) / 512 + 1);
          reads.set(1000 + i, { offset, length });
          readRequests.push(request(NBD_CMD_READ, offset, length, 1000 + i));
        }
        const sendingReads = (async () => {
          for (const bytes of readRequests) await writeAll(conn, bytes);
        })();
        for (let i = 0; i < reads.size; i++) {
          const header = decodeSimpleReply(await readExact(conn, SIMPLE_REPLY_HEADER_SIZE), 0);
          assertEquals(header.error, 0);
          const read = reads.get(header.handleLow)!;
          const data = await readExact(conn, read.length);
          const expected = model.subarray(read.offset, read.offset + read.length);
          assert(
            data.every((byte, at) => byte === expected[at]),
            `round ${round}: read ${header.handleLow} at ${read.offset}+${read.length} differs`,
          );
        }
        await sendingReads;
      }
    } finally {
      conn.close();
    }
  } catch (error) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    throw new Error(`server log:\n${logger.lines.join("\n")}`, { cause: error });
  } finally {
    await server.stop();
    await engine.stop();
    await ldev.close();
    await ddev.close();
  }
  const image = await Deno.readFile(`${dir}/ddev`);
  assert(image.every((byte, at) => byte === model[at]), "ddev after a clean stop");
  await Deno.remove(dir, { recursive: true });
});
