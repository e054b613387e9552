/**
 * The userland WalB device on loop devices (the loop-device flavour of AC-44): format-ldev
 * on a loop ldev, create-wdev with O_DIRECT on both loop devices, writes through NBD, then
 * the log read back through the loop device path (the wldev reader and `walb wlog-cat`),
 * redone onto a copy of the initial ddev. Needs root and losetup; loop devices are always
 * detached in `finally`.
 */
import { assert, assertEquals } from "../../lib/testing/assert.ts";
import { readWldevLogpacks, readWldevSuper } from "../../lib/device/wldev.ts";
import { deviceSha1, fileSha1, writeThroughNbd } from "../../lib/testing/harness.ts";
import { seededPrng } from "../../lib/testing/random.ts";
import { have, MiB, run, withDeviceDir } from "./device_support.ts";

const CAN_LOOP = Deno.uid() === 0 && have("losetup");

async function attach(path: string): Promise<string> {
  return (await run("losetup", ["--find", "--show", path])).stdout.trim();
}

Deno.test({
  name: "a device on loop devices logs packs that the wldev reader and wlog-cat read back",
  ignore: !CAN_LOOP,
  fn: () =>
    withDeviceDir(async (dir) => {
      const files = await dir.makeFiles("a", 16 * MiB, 8 * MiB);
      const base = `${dir.dir}/base.img`;
      await Deno.copyFile(files.ddev, base);
      const loops: string[] = [];
      try {
        loops.push(await attach(files.ldev));
        loops.push(await attach(files.ddev));
        const [ldev, ddev] = loops as [string, string];
        const device = await dir.createDevice("loopvol", ldev, ddev);
        const prng = seededPrng("device on loop devices");
        for (let i = 0; i < 20; i++) {
          const offset = 4096 * prng.int(2048 - 16);
          await writeThroughNbd({ unixPath: device.nbdPath }, offset, {
            lengthBytes: 4096 * (1 + prng.int(16)),
            random: prng,
          });
        }
        const sha = await deviceSha1({ unixPath: device.nbdPath });
        const lsids = await dir.lsids(device.wdev);
        const sup = await readWldevSuper(ldev);
        assertEquals(sup.name, "loopvol");
        let packs = 0;
        const reader = readWldevLogpacks(ldev, lsids.oldest, lsids.permanent);
        for (;;) {
          const next = await reader.next();
          if (next.done === true) {
            assertEquals(next.value.reason, "limit");
            assertEquals(next.value.lsid, lsids.permanent);
            break;
          }
          packs++;
        }
        assert(packs >= 20, `read ${packs} packs`);
        const wlog = `${dir.dir}/out.wlog`;
        await dir.walb(["wlog-cat", ldev, "-e", `${lsids.permanent}`, "-o", wlog]);
        const redone = `${dir.dir}/redone.img`;
        await Deno.copyFile(base, redone);
        await dir.walb(["wlog-redo", "-z", "-i", wlog, redone]);
        assertEquals(await fileSha1(redone), sha);
        await dir.wdevc(["delete-wdev", device.wdev]);
        assertEquals(await fileSha1(files.ddev), sha);
      } finally {
        await dir.killAll();
        for (const loop of loops) await run("losetup", ["-d", loop], { allowFailure: true });
      }
    }),
});
