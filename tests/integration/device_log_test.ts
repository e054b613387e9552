/**
 * The log a userland WalB device writes, read back with the offline tools: after a mixed
 * workload (writes, overlapping writes, trims, flushes) the wlog extracted from the ldev
 * (oldest..permanent, `walb wlog-cat`) passes `wlog-show -validate` and, redone with `-z`
 * onto a copy of the initial ddev, gives the device's image. Also the ring wrap (extraction
 * across the ring end, redo after SIGKILL) and overflow (flag set, data kept, reset-wal
 * recovers).
 */
import { assert, assertEquals } from "../../lib/testing/assert.ts";
import { checkLsidInvariants } from "../../lib/device/walb/lsid_state.ts";
import { deviceSha1, fileSha1 } from "../../lib/testing/harness.ts";
import { NbdRequestError, NbdTestClient } from "../../lib/testing/nbd_client.ts";
import { type Prng, seededPrng } from "../../lib/testing/random.ts";
import { type DeviceDir, MiB, withDeviceDir } from "./device_support.ts";

/** Random bytes for `size` (the PRNG is slow for megabytes; crypto fills them). */
function randomBytes(size: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  return data;
}

/** A mixed workload of `count` ops over `[0, deviceBytes)`: writes (some overlapping), trims, flushes. */
async function mixedWorkload(
  nbdPath: string,
  prng: Prng,
  options: { count: number; deviceBytes: number; maxIoBytes: number },
): Promise<void> {
  const client = await NbdTestClient.connect({ unixPath: nbdPath });
  try {
    let last = { offset: 0, length: 512 };
    for (let i = 0; i < options.count; i++) {
      const kind = prng.int(10);
      const length = 512 * (1 + prng.int(options.maxIoBytes / 512));
      let offset = 512 * prng.int((options.deviceBytes - length) / 512 + 1);
      if (kind < 2) offset = Math.min(last.offset, options.deviceBytes - length); // overlap
      if (kind < 7) {
        await client.write(offset, randomBytes(length), { fua: prng.chance(0.05) });
      } else if (kind < 9) {
        await client.trim(offset, length);
      } else {
        await client.flush();
      }
      last = { offset, length };
    }
    await client.flush();
  } finally {
    await client.disconnect();
  }
}

/** Extracts oldest..permanent with wlog-cat, validates it, redoes it with -z onto `base`. */
async function extractAndRedo(dir: DeviceDir, ldev: string, wdev: string, base: string) {
  const lsids = await dir.lsids(wdev);
  checkLsidInvariants(lsids);
  const wlog = `${dir.dir}/out.wlog`;
  await dir.walb([
    "wlog-cat",
    ldev,
    "-b",
    `${lsids.oldest}`,
    "-e",
    `${lsids.permanent}`,
    "-o",
    wlog,
  ]);
  await dir.walb(["wlog-show", "-validate", "-none", wlog]);
  const redone = `${dir.dir}/redone.img`;
  await Deno.copyFile(base, redone);
  await dir.walb(["wlog-redo", "-z", "-i", wlog, redone]);
  return { lsids, redone };
}

Deno.test({
  name: "the wlog of a mixed workload validates and redoes onto the initial ddev to the image",
  fn: () =>
    withDeviceDir(async (dir) => {
      const prng = seededPrng("device log mixed workload");
      const deviceBytes = 8 * MiB;
      const files = await dir.makeFiles("a", 64 * MiB, deviceBytes);
      await Deno.writeFile(files.ddev, randomBytes(deviceBytes));
      const base = `${dir.dir}/base.img`;
      await Deno.copyFile(files.ddev, base);
      const device = await dir.createDevice("vol0", files.ldev, files.ddev);
      await mixedWorkload(device.nbdPath, prng, {
        count: 400,
        deviceBytes,
        maxIoBytes: 128 * 1024,
      });
      const sha = await deviceSha1({ unixPath: device.nbdPath });
      const { lsids, redone } = await extractAndRedo(dir, files.ldev, device.wdev, base);
      assertEquals(lsids.permanent, lsids.latest, "everything flushed is permanent");
      assertEquals(await fileSha1(redone), sha);
      await dir.wdevc(["delete-wdev", device.wdev]);
      assertEquals(await fileSha1(files.ddev), sha);
    }),
});

/** Writes `rounds` × `bytesPerRound` at increasing offsets, flushing after each round. */
async function writeRounds(nbdPath: string, rounds: number, bytesPerRound: number, at = 0) {
  const client = await NbdTestClient.connect({ unixPath: nbdPath });
  try {
    for (let round = 0; round < rounds; round++) {
      const offset = (at + round * bytesPerRound) % client.sizeBytes;
      await client.write(offset, randomBytes(bytesPerRound));
      await client.flush();
    }
  } finally {
    await client.disconnect();
  }
}

Deno.test({
  name: "the log wraps the ring: extraction across the end redoes to the image, also after SIGKILL",
  fn: () =>
    withDeviceDir(async (dir) => {
      const deviceBytes = 4 * MiB;
      const files = await dir.makeFiles("a", 1 * MiB, deviceBytes);
      const device = await dir.createDevice("vol0", files.ldev, files.ddev);
      const capacity = BigInt((await dir.wdevc(["get-log-capacity", device.wdev])).stdout.trim());
      // Fill most of the ring, then free it: the next writes cross the ring end.
      await writeRounds(device.nbdPath, 3, 192 * 1024);
      await dir.wdevc(["clear-wal", device.wdev, "10"]);
      const before = await dir.lsids(device.wdev);
      assertEquals(before.oldest, before.permanent, "clear-wal emptied the log");
      const base = `${dir.dir}/base.img`;
      const client = await NbdTestClient.connect({ unixPath: device.nbdPath });
      await Deno.writeFile(base, await client.read(0, deviceBytes));
      await client.disconnect();
      await writeRounds(device.nbdPath, 4, 192 * 1024, 1 * MiB);
      const after = await dir.lsids(device.wdev);
      assert(
        before.latest % capacity > after.latest % capacity,
        `the log wrapped (${before.latest} → ${after.latest}, ring ${capacity})`,
      );
      const sha = await deviceSha1({ unixPath: device.nbdPath });
      const { redone } = await extractAndRedo(dir, files.ldev, device.wdev, base);
      assertEquals(await fileSha1(redone), sha);
      await dir.killDaemon("vol0");
      const restarted = await dir.startDevice(files.ldev, files.ddev);
      assertEquals(await deviceSha1({ unixPath: restarted.nbdPath }), sha);
      assertEquals((await dir.wdevc(["is-log-overflow", restarted.wdev])).stdout, "0\n");
      await dir.wdevc(["delete-wdev", restarted.wdev]);
    }),
});

Deno.test({
  name: "a log filled past capacity sets the overflow flag, keeps the data, and reset-wal recovers",
  fn: () =>
    withDeviceDir(async (dir) => {
      const deviceBytes = 4 * MiB;
      const files = await dir.makeFiles("a", 1 * MiB, deviceBytes);
      const device = await dir.createDevice("vol0", files.ldev, files.ddev);
      await writeRounds(device.nbdPath, 12, 256 * 1024);
      assertEquals((await dir.wdevc(["is-log-overflow", device.wdev])).stdout, "1\n");
      const lsids = await dir.lsids(device.wdev);
      checkLsidInvariants(lsids);
      const capacity = BigInt((await dir.wdevc(["get-log-capacity", device.wdev])).stdout.trim());
      assert(lsids.latest - lsids.oldest > capacity, "usage is over capacity");
      const sha = await deviceSha1({ unixPath: device.nbdPath });
      // The logs needed for redo (≥ prev_written) were never overwritten.
      await dir.killDaemon("vol0");
      const restarted = await dir.startDevice(files.ldev, files.ddev);
      assertEquals(await deviceSha1({ unixPath: restarted.nbdPath }), sha);
      assertEquals((await dir.wdevc(["is-log-overflow", restarted.wdev])).stdout, "1\n");
      await dir.wdevc(["reset-wal", restarted.wdev]);
      assertEquals((await dir.wdevc(["is-log-overflow", restarted.wdev])).stdout, "0\n");
      assertEquals((await dir.wdevc(["get-log-usage", restarted.wdev])).stdout, "0\n");
      assertEquals(await deviceSha1({ unixPath: restarted.nbdPath }), sha);
      await writeRounds(restarted.nbdPath, 1, 64 * 1024);
      const fresh = await dir.lsids(restarted.wdev);
      assertEquals(fresh.oldest, 0n);
      assert(fresh.permanent > 0n, "logging resumed after reset-wal");
      await dir.wdevc(["delete-wdev", restarted.wdev]);
    }),
});

Deno.test({
  name: "--error-before-overflow: writes past capacity fail, and the log not yet extracted is kept",
  fn: () =>
    withDeviceDir(async (dir) => {
      const deviceBytes = 4 * MiB;
      const files = await dir.makeFiles("b", 1 * MiB, deviceBytes);
      const base = `${dir.dir}/base.img`;
      await Deno.copyFile(files.ddev, base);
      const device = await dir.createDevice("vol0", files.ldev, files.ddev, [
        "--error-before-overflow",
      ]);
      const capacity = BigInt((await dir.wdevc(["get-log-capacity", device.wdev])).stdout.trim());
      // Nothing extracts: rounds of 256 KiB fill the 1 MiB ring, then writes must be refused.
      const client = await NbdTestClient.connect({ unixPath: device.nbdPath });
      let refused: unknown;
      try {
        for (let round = 0; round < 12 && refused === undefined; round++) {
          try {
            await client.write((round * 256 * 1024) % deviceBytes, randomBytes(256 * 1024));
            await client.flush();
          } catch (error) {
            refused = error;
          }
        }
      } finally {
        await client.disconnect();
      }
      assert(refused instanceof NbdRequestError, `a write was refused: ${refused}`);
      assertEquals((await dir.wdevc(["is-log-overflow", device.wdev])).stdout, "0\n");
      const lsids = await dir.lsids(device.wdev);
      assert(lsids.latest - lsids.oldest <= capacity, "usage within capacity");
      // Every acknowledged write is in the log from oldest on: it redoes to the image.
      const sha = await deviceSha1({ unixPath: device.nbdPath });
      const { redone } = await extractAndRedo(dir, files.ldev, device.wdev, base);
      assertEquals(await fileSha1(redone), sha);
      await dir.wdevc(["delete-wdev", device.wdev]);
    }),
});

Deno.test({
  name: "--error-before-overflow is refused for the kernel backend",
  fn: () =>
    withDeviceDir(async (dir) => {
      const files = await dir.makeFiles("c", 1 * MiB, 4 * MiB);
      const out = await dir.wdevc(
        ["create-wdev", files.ldev, files.ddev, "--backend", "kernel", "--error-before-overflow"],
        { allowFailure: true },
      );
      assert(out.code !== 0, "refused");
      assert(out.stderr.includes("--error-before-overflow is for userland devices"), out.stderr);
    }),
});
