/**
 * Review of the lent write payloads (WalbEngine.takeWriteBuffer, lib/device/walb/payload_pool.ts):
 * big payloads are logged in place and kept as pending data until they are on the ddev, then
 * their buffers are reused for new writes. The pool here poisons every returned buffer, so a
 * buffer returned while something still reads it (the ldev write, the applier, a read laying
 * pending data over its result) shows up as wrong bytes.
 */
import type { BlockDevice } from "../../lib/device/block/block_device.ts";
import { DirectDevice } from "../../lib/device/block/direct_device.ts";
import { MemoryDevice } from "../../lib/device/block/memory_device.ts";
import { PosixFileDevice } from "../../lib/device/block/posix_file_device.ts";
import { formatLdev, WalbEngine } from "../../lib/device/walb/mod.ts";
import { PayloadPool } from "../../lib/device/walb/payload_pool.ts";
import { realClock } from "../../lib/clock.ts";
import { ManualClock } from "../../lib/testing/clock.ts";
import { assert, assertEquals } from "../../lib/testing/assert.ts";
import { seededPrng } from "../../lib/testing/random.ts";

const POISON = 0xa5;

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** A gate: calls wait while it is closed. */
class Gate {
  #open = true;
  #waiters: (() => void)[] = [];
  close(): void {
    this.#open = false;
  }
  open(): void {
    this.#open = true;
    for (const wake of this.#waiters.splice(0)) wake();
  }
  async pass(): Promise<void> {
    while (!this.#open) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}

/** `device` with its reads and writes held at gates. */
function gated(device: BlockDevice, reads: Gate, writes: Gate): BlockDevice {
  return new Proxy(device, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== "function") return value;
      if (key === "tryReadIntoSync") return undefined;
      const gate = key === "readInto" || key === "read"
        ? reads
        : ["write", "writeGather", "writeList", "discard", "writeZeroes"].includes(String(key))
        ? writes
        : undefined;
      if (gate === undefined) return value.bind(target);
      return async (...args: unknown[]) => {
        await gate.pass();
        return await value.apply(target, args);
      };
    },
  });
}

Deno.test("review: a read laying a lent payload over its result holds it while the applier frees it", async () => {
  const ldev = new MemoryDevice({ sizeBytes: 8 << 20 });
  const memory = new MemoryDevice({ sizeBytes: 8 << 20 });
  await formatLdev(ldev, memory, { name: "lent" });
  const reads = new Gate();
  const writes = new Gate();
  const pool = new PayloadPool({ bytesMax: 1 << 24, poisonByte: POISON });
  const engine = await WalbEngine.open(ldev, gated(memory, reads, writes), {
    clock: new ManualClock(),
    payloadPool: pool,
  });
  try {
    const size = 128 * 1024;
    const first = engine.takeWriteBuffer(size);
    assert(first !== undefined, "a big write gets a lent buffer");
    first.fill(0x11);
    writes.close(); // the applier stops at the ddev
    await engine.write(0, first, { fua: true });
    reads.close();
    const target = new Uint8Array(size);
    const reading = engine.readInto(0, target); // overlays taken, waiting at the ddev
    writes.open();
    // The applier puts the write on the ddev and drops its hold; the read still holds it.
    for (let tries = 0; engine.pendingBytes > 0 && tries < 1000; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assertEquals(engine.pendingBytes, 0, "applied");
    assertEquals(pool.returned, 0, "the read still holds the buffer");
    const second = engine.takeWriteBuffer(size)!;
    assertEquals(pool.reused, 0, "a held buffer is not lent again");
    second.fill(0x22);
    await engine.write(size, second);
    reads.open();
    await reading;
    assertEquals(firstDifference(target, new Uint8Array(size).fill(0x11)), -1, "read result");
    assertEquals(pool.returned, 1, "returned once the read laid it over");
    await engine.flush();
  } finally {
    reads.open();
    writes.open();
    await engine.stop();
  }
  assertEquals(pool.returned, pool.taken, "every lent buffer came back");
});

// max_logpack_kb 32 (default): a lent write has its pack alone; 0 (no limit): packs mix lent
// payloads (laid out in place together) and copied ones (the whole pack copied).
for (const maxLogpackKb of [32, 0]) {
  Deno.test(`review: lent payloads over an O_DIRECT ldev (max_logpack_kb ${maxLogpackKb}) keep every acknowledged write readable, and come back`, async () => {
    const prng = seededPrng(`review lent payloads ${maxLogpackKb}`);
    const dir = await Deno.makeTempDir({ dir: "/var/tmp" }); // O_DIRECT needs a real filesystem
    const ddevBytes = 16 << 20;
    const ldevPath = `${dir}/ldev`;
    const ddevPath = `${dir}/ddev`;
    await Deno.writeFile(ldevPath, new Uint8Array(0));
    await Deno.truncate(ldevPath, 24 << 20); // a small ring: it wraps (padding) several times
    await Deno.writeFile(ddevPath, new Uint8Array(0));
    await Deno.truncate(ddevPath, ddevBytes);
    const model = new Uint8Array(ddevBytes);
    const ldev = await DirectDevice.open(ldevPath);
    const ddev = await PosixFileDevice.open(ddevPath, {
      physicalBlockSize: ldev.physicalBlockSize,
    });
    const pool = new PayloadPool({ bytesMax: 4 << 20, poisonByte: POISON });
    try {
      await formatLdev(ldev, ddev, { name: "lent" });
      const engine = await WalbEngine.open(ldev, ddev, {
        clock: realClock,
        payloadPool: pool,
        maxPendingMb: 4,
        maxLogpackKb,
        logFlushIntervalMb: 1,
      });
      try {
        for (let round = 0; round < 16; round++) {
          const calls: Promise<void>[] = [];
          const ranges: [number, number][] = [];
          for (let i = 0; i < 24; i++) {
            const lengthBytes = prng.chance(0.8)
              ? 4096 * prng.range(16, 256) // lent: 64 KiB .. 1 MiB
              : 512 * prng.range(1, 64); // copied
            const offsetBytes = 4096 * prng.int(Math.floor((ddevBytes - lengthBytes) / 4096) + 1);
            ranges.push([offsetBytes, offsetBytes + lengthBytes]);
            if (prng.chance(0.05)) {
              calls.push(engine.discard(offsetBytes, lengthBytes));
              model.fill(0, offsetBytes, offsetBytes + lengthBytes);
              continue;
            }
            const data = engine.takeWriteBuffer(lengthBytes) ?? new Uint8Array(lengthBytes);
            data.set(prng.bytes(lengthBytes));
            model.set(data, offsetBytes);
            calls.push(engine.write(offsetBytes, data, { fua: prng.chance(0.1) }));
          }
          // Reads beside this round's writes, of earlier rounds' data the applier is putting on
          // the ddev while this round reuses its buffers.
          const reads: Promise<void>[] = [];
          for (let r = 0; r < 16; r++) {
            const lengthBytes = 4096 * prng.range(1, 256);
            const offsetBytes = 4096 * prng.int(Math.floor((ddevBytes - lengthBytes) / 4096) + 1);
            const end = offsetBytes + lengthBytes;
            if (ranges.some(([start, stop]) => start < end && offsetBytes < stop)) continue;
            const expected = model.slice(offsetBytes, end);
            const target = new Uint8Array(lengthBytes);
            reads.push(
              engine.readInto(offsetBytes, target).then(() => {
                const at = firstDifference(target, expected);
                assert(
                  at < 0,
                  `round ${round}: read at ${offsetBytes}+${lengthBytes} differs at ${at}`,
                );
              }),
            );
            await calls[prng.int(calls.length)];
          }
          await Promise.all(calls);
          if (prng.chance(0.5)) await engine.flush();
          for (let r = 0; r < 8; r++) {
            const lengthBytes = 4096 * prng.range(1, 512);
            const offsetBytes = 4096 * prng.int(Math.floor((ddevBytes - lengthBytes) / 4096) + 1);
            const target = new Uint8Array(lengthBytes);
            reads.push(
              engine.readInto(offsetBytes, target).then(() => {
                const expected = model.subarray(offsetBytes, offsetBytes + lengthBytes);
                const at = firstDifference(target, expected);
                assert(
                  at < 0,
                  `round ${round}: read at ${offsetBytes}+${lengthBytes} differs at ${at}`,
                );
              }),
            );
          }
          await Promise.all(reads);
        }
      } finally {
        await engine.stop();
      }
      assert(pool.reused > 0, "buffers were reused");
      assertEquals(pool.returned, pool.taken, "every lent buffer came back");
      const image = await Deno.readFile(ddevPath);
      assertEquals(firstDifference(image, model), -1, "ddev after a clean stop");
    } finally {
      await ldev.close();
      await ddev.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
