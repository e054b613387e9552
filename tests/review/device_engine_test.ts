/**
 * Review of the userland device engine's performance changes (gather writes, list writes,
 * sliced synchronous ddev apply, synchronous cached reads, payload buffers reused by the NBD
 * server): random overlapping writes and discards over real files, against a model. After each
 * batch is acknowledged, reads (synchronous and not) must see every acknowledged write while the
 * applier is still working (§9 item 11), the caller's payload buffers are scribbled over at once
 * (the engine must have copied them), and at the end the ddev must hold the model's bytes (the
 * later lsid wins on overlaps, §9) also after a reopen.
 */
import type { BlockDevice } from "../../lib/device/block/block_device.ts";
import { DirectDevice } from "../../lib/device/block/direct_device.ts";
import { PosixFileDevice } from "../../lib/device/block/posix_file_device.ts";
import { formatLdev, WalbEngine } from "../../lib/device/walb/mod.ts";
import { applyDataIos, type DataIo } from "../../lib/device/walb/data_io.ts";
import { realClock } from "../../lib/clock.ts";
import { assert, assertEquals } from "../../lib/testing/assert.ts";
import { seededPrng } from "../../lib/testing/random.ts";

const DDEV_BYTES = 2 << 20;

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

for (const direct of [false, true]) {
  Deno.test(`review: WalbEngine over files (${direct ? "O_DIRECT" : "buffered"} ldev) keeps acknowledged writes readable and ordered`, async () => {
    const prng = seededPrng("review device engine");
    // Under /var/tmp: O_DIRECT needs a real filesystem (not tmpfs).
    const dir = await Deno.makeTempDir({ dir: "/var/tmp" });
    const ldevPath = `${dir}/ldev`;
    const ddevPath = `${dir}/ddev`;
    await Deno.writeFile(ldevPath, new Uint8Array(0));
    await Deno.truncate(ldevPath, 16 << 20);
    await Deno.writeFile(ddevPath, new Uint8Array(0));
    await Deno.truncate(ddevPath, DDEV_BYTES);
    const model = new Uint8Array(DDEV_BYTES);
    const openLdev = async (): Promise<BlockDevice> =>
      direct ? await DirectDevice.open(ldevPath) : await PosixFileDevice.open(ldevPath);
    let ldev = await openLdev();
    const pbs = ldev.physicalBlockSize;
    let ddev = await PosixFileDevice.open(ddevPath, {
      syncWriteSizeMaxBytes: 64 * 1024,
      physicalBlockSize: pbs,
    });
    try {
      await formatLdev(ldev, ddev, { name: "review" });
      const engine = await WalbEngine.open(ldev, ddev, { clock: realClock });
      try {
        for (let round = 0; round < 12; round++) {
          const calls: Promise<void>[] = [];
          const payloads: Uint8Array[] = [];
          for (let i = 0; i < 48; i++) {
            const lengthBytes = 512 * prng.range(1, prng.chance(0.2) ? (direct ? 2560 : 256) : 16);
            const offsetBytes = 512 * prng.int((DDEV_BYTES - lengthBytes) / 512 + 1);
            if (prng.chance(0.1)) {
              calls.push(engine.discard(offsetBytes, lengthBytes));
              model.fill(0, offsetBytes, offsetBytes + lengthBytes);
              continue;
            }
            // Sequential runs too (merged into gather writes).
            const data = prng.bytes(lengthBytes);
            model.set(data, offsetBytes);
            payloads.push(data);
            calls.push(engine.write(offsetBytes, data, { fua: prng.chance(0.1) }));
            if (prng.chance(0.3) && offsetBytes + 2 * lengthBytes <= DDEV_BYTES) {
              const next = prng.bytes(lengthBytes);
              model.set(next, offsetBytes + lengthBytes);
              payloads.push(next);
              calls.push(engine.write(offsetBytes + lengthBytes, next));
            }
          }
          await Promise.all(calls);
          // As the NBD server with reusesWriteData: the payload buffers are reused at once.
          for (const payload of payloads) payload.fill(0xee);
          if (prng.chance(0.5)) await engine.flush();
          for (let r = 0; r < 32; r++) {
            const lengthBytes = 512 * prng.range(1, 128);
            const offsetBytes = 512 * prng.int((DDEV_BYTES - lengthBytes) / 512 + 1);
            const target = new Uint8Array(lengthBytes);
            if (!engine.tryReadIntoSync(offsetBytes, target)) {
              await engine.readInto(offsetBytes, target);
            }
            const expected = model.subarray(offsetBytes, offsetBytes + lengthBytes);
            const at = firstDifference(target, expected);
            assert(
              at < 0,
              `round ${round}: read at ${offsetBytes}+${lengthBytes} differs at ${at}`,
            );
            if (r % 8 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
          }
        }
      } finally {
        await engine.stop();
      }
      const image = await Deno.readFile(ddevPath);
      assertEquals(firstDifference(image, model), -1, "ddev after a clean stop");
      await ldev.close();
      await ddev.close();
      ldev = await openLdev();
      ddev = await PosixFileDevice.open(ddevPath, { physicalBlockSize: pbs });
      const reopened = await WalbEngine.open(ldev, ddev, { clock: realClock });
      try {
        const all = await reopened.read(0, DDEV_BYTES);
        assertEquals(firstDifference(all, model), -1, "device after a reopen");
      } finally {
        await reopened.stop();
      }
    } finally {
      await ldev.close();
      await ddev.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("review: applyDataIos() on a file device (list, gather, sliced) matches the model", async () => {
  const prng = seededPrng("review applyDataIos file");
  const path = await Deno.makeTempFile();
  await Deno.truncate(path, DDEV_BYTES);
  for (const syncWriteSizeMaxBytes of [0, 64 * 1024]) {
    const device = await PosixFileDevice.open(path, { syncWriteSizeMaxBytes });
    try {
      const model = await Deno.readFile(path);
      for (let round = 0; round < 6; round++) {
        const ios: DataIo[] = [];
        for (let i = 0; i < 300; i++) {
          const lengthBytes = 512 * prng.range(1, prng.chance(0.1) ? 512 : 9);
          const offsetBytes = 512 * prng.int((DDEV_BYTES - lengthBytes) / 512 + 1);
          // Payloads as the planner gives them: views of a shared run buffer.
          const run = prng.bytes(lengthBytes + 1024);
          const data = prng.chance(0.08) ? null : run.subarray(512, 512 + lengthBytes);
          ios.push({ offsetBytes, lengthBytes, data });
          if (data === null) model.fill(0, offsetBytes, offsetBytes + lengthBytes);
          else model.set(data, offsetBytes);
        }
        let pauses = 0;
        await applyDataIos(device, ios, {
          slice: {
            sliceMs: 0,
            pause: () => (pauses++, new Promise((resolve) => setTimeout(resolve, 0))),
          },
        });
        const image = await device.read(0, DDEV_BYTES);
        assertEquals(
          firstDifference(image, model),
          -1,
          `round ${round} sync ${syncWriteSizeMaxBytes}`,
        );
      }
    } finally {
      await device.close();
    }
  }
  await Deno.remove(path);
});
