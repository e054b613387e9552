import { MemorySink, MemorySource } from "../io/stream.ts";
import { assert, assertEquals } from "../testing/assert.ts";
import { MemoryLogger, NbdIoError } from "./backend.ts";
import {
  decodeSimpleReply,
  encodeRequest,
  NBD_CMD_DISC,
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLAG_NO_HOLE,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
  NBD_EINVAL,
  NBD_EIO,
  NBD_ENOSPC,
  NBD_EPERM,
  SIMPLE_REPLY_HEADER_SIZE,
} from "./protocol.ts";
import { NbdReader } from "./reader.ts";
import { MemoryBackend, type TestBackendOptions } from "./testing_backends.ts";
import { Transmission } from "./transmission.ts";

interface Reply {
  handle: number;
  error: number;
  data: Uint8Array;
}

let nextHandle = 1;
function request(
  type: number,
  offset: number,
  length: number,
  options: { flags?: number; data?: Uint8Array; handle?: number } = {},
): Uint8Array {
  return encodeRequest({
    flags: options.flags ?? 0,
    type,
    handleHigh: 0xcafe,
    handleLow: options.handle ?? nextHandle++,
    offset,
    length,
  }, options.data);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Splits replies; `readLengths` maps a read's handle to its data length. */
function parseReplies(bytes: Uint8Array, readLengths: Map<number, number>): Reply[] {
  const replies: Reply[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const header = decodeSimpleReply(bytes, offset);
    assertEquals(header.handleHigh, 0xcafe);
    offset += SIMPLE_REPLY_HEADER_SIZE;
    const length = header.error === 0 ? readLengths.get(header.handleLow) ?? 0 : 0;
    replies.push({
      handle: header.handleLow,
      error: header.error,
      data: bytes.slice(offset, offset + length),
    });
    offset += length;
  }
  return replies;
}

async function serve(
  clientBytes: Uint8Array,
  backend = new MemoryBackend(1 << 20),
  options: { inFlightMax?: number } = {},
  sink = new MemorySink(),
) {
  const logger = new MemoryLogger();
  const transmission = new Transmission(
    new NbdReader(new MemorySource(clientBytes), 4096),
    sink,
    backend,
    { logger, label: "test", ...options },
  );
  const reason = await transmission.run();
  return { reason, bytes: sink.bytes(), logger, backend };
}

function pattern(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, index) => (index * 7 + seed) & 0xff);
}

Deno.test("Transmission writes, reads back and stops at DISC", async () => {
  const data = pattern(8192, 3);
  const client = concat(
    request(NBD_CMD_WRITE, 4096, 8192, { data, handle: 1 }),
    request(NBD_CMD_FLUSH, 0, 0, { handle: 2 }),
    request(NBD_CMD_READ, 4096, 8192, { handle: 3 }),
    request(NBD_CMD_DISC, 0, 0, { handle: 4 }),
    request(NBD_CMD_READ, 0, 512, { handle: 5 }),
  );
  const run = await serve(client);
  assertEquals(run.reason, "client disconnected");
  const replies = parseReplies(run.bytes, new Map([[3, 8192]]));
  assertEquals(replies.map((reply) => [reply.handle, reply.error]), [[1, 0], [2, 0], [3, 0]]);
  assertEquals(replies[2]!.data, data);
  assertEquals(run.backend.counters.flushes, 1);
});

Deno.test("Transmission passes FUA, trims and turns WRITE_ZEROES into zero writes", async () => {
  const backend = new MemoryBackend(1 << 20);
  backend.bytes.fill(0xee);
  const client = concat(
    request(NBD_CMD_WRITE, 0, 512, { data: pattern(512, 1), flags: NBD_CMD_FLAG_FUA }),
    request(NBD_CMD_TRIM, 4096, 4096),
    request(NBD_CMD_WRITE_ZEROES, 65536, 3 << 20 >> 2, { flags: NBD_CMD_FLAG_NO_HOLE }),
  );
  const run = await serve(client, backend);
  assertEquals(run.reason, "client closed the connection");
  assertEquals(parseReplies(run.bytes, new Map()).map((reply) => reply.error), [0, 0, 0]);
  assertEquals(backend.counters.fuaWrites, 1);
  assertEquals(backend.counters.trims, 1);
  assertEquals(backend.counters.zeroes, 0);
  assert(backend.bytes.subarray(4096, 8192).every((byte) => byte === 0));
  assert(backend.bytes.subarray(65536, 65536 + (3 << 18)).every((byte) => byte === 0));
  assertEquals(backend.bytes[65536 + (3 << 18)], 0xee);
});

Deno.test("Transmission uses a native writeZeroes when the backend has one", async () => {
  const backend = new MemoryBackend(1 << 20, { nativeZeroes: true });
  const run = await serve(request(NBD_CMD_WRITE_ZEROES, 0, 1 << 20), backend);
  assertEquals(parseReplies(run.bytes, new Map()).map((reply) => reply.error), [0]);
  assertEquals(backend.counters.zeroes, 1);
  assertEquals(backend.counters.writes, 0);
});

Deno.test("Transmission rejects bad requests and keeps serving", async () => {
  const size = 1 << 20;
  const client = concat(
    request(NBD_CMD_READ, size, 512, { handle: 1 }), // past the end
    request(NBD_CMD_WRITE, size - 512, 1024, { data: pattern(1024, 0), handle: 2 }),
    request(NBD_CMD_READ, 100, 512, { handle: 3 }), // misaligned
    request(NBD_CMD_READ, 0, 64 << 20, { handle: 4 }), // over the maximum
    request(9, 0, 0, { handle: 5 }), // unknown command
    request(NBD_CMD_READ, 0, 512, { flags: 0x100, handle: 6 }), // unknown flag
    request(NBD_CMD_READ, 2 ** 60, 512, { handle: 7 }), // offset past 2^53
    request(NBD_CMD_READ, 0, 512, { handle: 8 }),
  );
  const run = await serve(client);
  const replies = parseReplies(run.bytes, new Map([[8, 512]]));
  assertEquals(replies.map((reply) => [reply.handle, reply.error]), [
    [1, NBD_EINVAL],
    [2, NBD_ENOSPC],
    [3, NBD_EINVAL],
    [4, NBD_EINVAL],
    [5, NBD_EINVAL],
    [6, NBD_EINVAL],
    [7, NBD_EINVAL],
    [8, 0],
  ]);
  assertEquals(run.backend.counters.writes, 0);
  assert(run.logger.lines.some((line) => line.includes("rejected with error 28")));
});

Deno.test("Transmission answers writes to a read-only export with EPERM", async () => {
  const backend = new MemoryBackend(1 << 20, { readOnly: true } satisfies TestBackendOptions);
  const client = concat(
    request(NBD_CMD_WRITE, 0, 512, { data: pattern(512, 0), handle: 1 }),
    request(NBD_CMD_TRIM, 0, 512, { handle: 2 }),
    request(NBD_CMD_READ, 0, 512, { handle: 3 }),
  );
  const run = await serve(client, backend);
  const replies = parseReplies(run.bytes, new Map([[3, 512]]));
  assertEquals(replies.map((reply) => reply.error), [NBD_EPERM, NBD_EPERM, 0]);
});

Deno.test("Transmission maps backend errors to NBD errors", async () => {
  const backend = new MemoryBackend(1 << 20);
  backend.write = () => Promise.reject(new NbdIoError(NBD_ENOSPC, "log full"));
  backend.flush = () => Promise.reject(new Error("disk gone"));
  const client = concat(
    request(NBD_CMD_WRITE, 0, 512, { data: pattern(512, 0), handle: 1 }),
    request(NBD_CMD_FLUSH, 0, 0, { handle: 2 }),
  );
  const run = await serve(client, backend);
  const replies = parseReplies(run.bytes, new Map());
  assertEquals(replies.map((reply) => reply.error), [NBD_ENOSPC, NBD_EIO]);
  assert(run.logger.lines.some((line) => line.includes("disk gone")));
});

Deno.test("Transmission replies out of order, each with its handle", async () => {
  const backend = new MemoryBackend(1 << 20);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const plainRead = backend.readInto.bind(backend);
  backend.readInto = async (offset, target) => {
    if (offset === 0) await gate;
    await plainRead(offset, target);
  };
  backend.flush = () => {
    release();
    return Promise.resolve();
  };
  const client = concat(
    request(NBD_CMD_READ, 0, 512, { handle: 1 }),
    request(NBD_CMD_READ, 512, 512, { handle: 2 }),
    request(NBD_CMD_FLUSH, 0, 0, { handle: 3 }),
  );
  const run = await serve(client, backend);
  const replies = parseReplies(run.bytes, new Map([[1, 512], [2, 512]]));
  // Handle 1 waits for the flush: it is answered last; 2 and 3 in either order.
  const handles = replies.map((reply) => reply.handle);
  assertEquals(handles[2], 1);
  assertEquals([...handles].sort(), [1, 2, 3]);
});

Deno.test("Transmission keeps at most inFlightMax requests running", async () => {
  const backend = new MemoryBackend(1 << 20);
  let running = 0;
  let runningMax = 0;
  backend.readInto = async () => {
    running++;
    runningMax = Math.max(runningMax, running);
    await new Promise((resolve) => setTimeout(resolve, 1));
    running--;
  };
  const client = concat(
    ...Array.from({ length: 20 }, (_, index) => request(NBD_CMD_READ, index * 512, 512)),
  );
  const run = await serve(client, backend, { inFlightMax: 3 });
  assertEquals(runningMax, 3);
  assertEquals(run.bytes.length, 20 * (SIMPLE_REPLY_HEADER_SIZE + 512));
});

Deno.test("Transmission ends on a bad magic or a truncated request", async () => {
  const bad = request(NBD_CMD_READ, 0, 512);
  bad[0] = 0;
  const badRun = await serve(bad);
  assertEquals(badRun.reason, "client broke the protocol");
  assertEquals(badRun.bytes.length, 0);
  const truncated = request(NBD_CMD_WRITE, 0, 4096, { data: pattern(1000, 0) });
  const truncatedRun = await serve(truncated);
  assertEquals(truncatedRun.reason, "client broke the protocol");
  assertEquals(truncatedRun.backend.counters.writes, 0);
});

Deno.test("Transmission closes after a rejected write too large to skip", async () => {
  const client = request(NBD_CMD_WRITE, 0, 0xfffffe00, { handle: 1 });
  const run = await serve(client);
  assert(run.reason.includes("too large to skip"));
  assertEquals(parseReplies(run.bytes, new Map()).map((reply) => reply.error), [NBD_EINVAL]);
});

Deno.test("Transmission answers a burst of cached reads with one socket write", async () => {
  const backend = new MemoryBackend(1 << 20, { syncReads: true });
  backend.bytes.set(pattern(8192, 5), 4096);
  const writes: number[] = [];
  const sink = new class extends MemorySink {
    override write(p: Uint8Array): Promise<number> {
      writes.push(p.length);
      return super.write(p);
    }
  }();
  const reads = [0, 1, 2, 3].map((index) =>
    request(NBD_CMD_READ, 4096 + index * 2048, 2048, { handle: 10 + index })
  );
  const client = concat(
    ...reads,
    request(NBD_CMD_WRITE, 0, 512, { data: pattern(512, 1), handle: 20 }),
    request(NBD_CMD_READ, 0, 512, { handle: 21 }),
  );
  const run = await serve(client, backend, {}, sink);
  const lengths = new Map([[10, 2048], [11, 2048], [12, 2048], [13, 2048], [21, 512]]);
  const replies = parseReplies(sink.bytes(), lengths);
  assertEquals(replies.map((reply) => reply.error), [0, 0, 0, 0, 0, 0]);
  for (const index of [0, 1, 2, 3]) {
    const reply = replies.find((candidate) => candidate.handle === 10 + index)!;
    assertEquals(reply.data, pattern(8192, 5).subarray(index * 2048, (index + 1) * 2048));
  }
  // The cached read after the write sees it (the write finished before the read ran).
  assertEquals(replies.find((reply) => reply.handle === 21)!.data, pattern(512, 1));
  assertEquals(run.backend.counters.reads, 5);
  assert(writes.length <= 3, `replies coalesced: ${writes.length} writes`);
});

Deno.test("Transmission reuses read reply buffers without leaking stale bytes", async () => {
  const backend = new MemoryBackend(1 << 20);
  backend.bytes.set(pattern(4096, 1), 0);
  backend.bytes.set(pattern(4096, 2), 4096);
  const plainRead = backend.readInto.bind(backend);
  backend.readInto = (offset, target) =>
    offset === 8192
      ? Promise.reject(new NbdIoError(NBD_EIO, "bad sector"))
      : plainRead(offset, target);
  const client = concat(
    request(NBD_CMD_READ, 0, 4096, { handle: 1 }),
    request(NBD_CMD_READ, 8192, 4096, { handle: 2 }),
    request(NBD_CMD_READ, 4096, 4096, { handle: 3 }),
    request(NBD_CMD_READ, 0, 4096, { handle: 4 }),
  );
  const run = await serve(client, backend, { inFlightMax: 1 });
  const replies = parseReplies(run.bytes, new Map([[1, 4096], [3, 4096], [4, 4096]]));
  assertEquals(replies.map((reply) => [reply.handle, reply.error]), [
    [1, 0],
    [2, NBD_EIO],
    [3, 0],
    [4, 0],
  ]);
  assertEquals(replies[2]!.data, pattern(4096, 2));
  assertEquals(replies[3]!.data, pattern(4096, 1));
});

Deno.test("Transmission reuses write payload buffers only for a backend that allows it", async () => {
  for (const reuses of [false, true]) {
    const backend = new MemoryBackend(1 << 20);
    const seen: Uint8Array[] = [];
    const plainWrite = backend.write.bind(backend);
    Object.assign(backend, { reusesWriteData: reuses });
    backend.write = (offset, data, options) => {
      seen.push(data);
      return plainWrite(offset, data, options);
    };
    const client = concat(
      request(NBD_CMD_WRITE, 0, 4096, { data: pattern(4096, 1), handle: 1 }),
      request(NBD_CMD_WRITE, 4096, 4096, { data: pattern(4096, 2), handle: 2 }),
    );
    await serve(client, backend, { inFlightMax: 1 });
    assertEquals(backend.bytes.subarray(0, 4096), pattern(4096, 1));
    assertEquals(backend.bytes.subarray(4096, 8192), pattern(4096, 2));
    assertEquals(seen[0] === seen[1], reuses);
  }
});
