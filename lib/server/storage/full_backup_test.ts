import { ChecksumMismatchError } from "../../errors.ts";
import { CompressionType } from "../../codec/codec.ts";
import { Packet } from "../../protocol/packet.ts";
import { RequestError } from "../../protocol/errors.ts";
import { assertEquals, assertRejects, assertThrows } from "../../testing/assert.ts";
import { ManualClock } from "../../testing/clock.ts";
import { netPipe } from "../../testing/net_pipe.ts";
import { seededPrng } from "../../testing/random.ts";
import { receiveFullSyncStream, sendFullSyncBulk } from "../archive/full_sync.ts";
import { parseBulkLb } from "./full_backup.ts";

function pair() {
  const [a, b] = netPipe();
  const clock = new ManualClock();
  return {
    sender: new Packet(a, { clock, timeoutMs: 0 }),
    receiver: new Packet(b, { clock, timeoutMs: 0 }),
  };
}

Deno.test("sendFullSyncBulk() and receiveFullSyncStream() round trip every codec, zero bulks as 00", async () => {
  const prng = seededPrng("full sync stream");
  const sizeLb = 37n;
  const bulkLb = 8;
  const image = new Uint8Array(Number(sizeLb) * 512);
  image.set(prng.bytes(4096), 0);
  image.set(new Uint8Array(4096).fill(7), 16 * 512);
  image.set(prng.bytes(512), 36 * 512);
  for (const type of Object.values(CompressionType)) {
    for (const workerCount of [0, 2]) {
      const compression = { type, level: 0, numCpu: 1 };
      const { sender, receiver } = pair();
      for (let lb = 0; lb < Number(sizeLb); lb += bulkLb) {
        const end = Math.min(Number(sizeLb), lb + bulkLb);
        sendFullSyncBulk(sender, image.subarray(lb * 512, end * 512), compression);
      }
      await sender.flush();
      const copy = new Uint8Array(image.length).fill(0xee);
      const writes: bigint[] = [];
      await receiveFullSyncStream(receiver, {
        sizeLb,
        bulkLb,
        compression,
        workerCount,
        write: (offsetLb, lengthLb, data) => {
          writes.push(offsetLb);
          const at = Number(offsetLb) * 512;
          if (data === undefined) copy.fill(0, at, at + lengthLb * 512);
          else copy.set(data, at);
          return Promise.resolve();
        },
      });
      assertEquals(writes, [0n, 8n, 16n, 24n, 32n]);
      assertEquals(copy, image, `codec ${type}, ${workerCount} workers`);
    }
  }
});

Deno.test("receiveFullSyncStream() rejects a bulk whose checksum does not match", async () => {
  for (const workerCount of [0, 1]) {
    const { sender, receiver } = pair();
    const bulk = new Uint8Array(512).fill(3);
    sender.writeU64(512n).writeU32(12345).writeBytes(bulk);
    await sender.flush();
    await assertRejects(
      () =>
        receiveFullSyncStream(receiver, {
          sizeLb: 1n,
          bulkLb: 1,
          compression: { type: CompressionType.none, level: 0, numCpu: 1 },
          workerCount,
          write: () => Promise.resolve(),
        }),
      ChecksumMismatchError,
    );
  }
});

Deno.test("parseBulkLb() takes 512 B to 4 MiB with unit suffixes, default 256 KiB", () => {
  assertEquals(parseBulkLb(undefined, "t"), 512);
  assertEquals(parseBulkLb("64K", "t"), 128);
  assertEquals(parseBulkLb("512", "t"), 1);
  assertEquals(parseBulkLb("4m", "t"), 8192);
  assertThrows(() => parseBulkLb("256", "t"), RequestError);
  assertThrows(() => parseBulkLb("5M", "t"), RequestError);
  assertThrows(() => parseBulkLb("x", "t"), RequestError);
});
