/**
 * The userland WalB device against real NBD clients from Debian packages (nbdinfo, nbdcopy,
 * qemu-io, qemu-img, nbdfuse with mkfs.ext4 and mount), driven through `walb wdevc`
 * (create-wdev, list, get-lsids, delete-wdev). Each test skips, saying why, when a client is
 * missing; every test kills its daemons, unmounts and removes its files in `finally`.
 */
import { createHash } from "node:crypto";
import { assert, assertEquals } from "../../lib/testing/assert.ts";
import { checkLsidInvariants } from "../../lib/device/walb/lsid_state.ts";
import { deviceSha1, fileSha1 } from "../../lib/testing/harness.ts";
import { have, MiB, run, withDeviceDir } from "./device_support.ts";

const HAVE = {
  nbdinfo: have("nbdinfo"),
  nbdcopy: have("nbdcopy"),
  qemuIo: have("qemu-io"),
  qemuImg: have("qemu-img"),
  nbdfuse: have("nbdfuse") && have("fusermount3") && have("mkfs.ext4"),
};

Deno.test({
  name: "wdevc create-wdev, list, get-lsids and delete-wdev on a userland device",
  fn: () =>
    withDeviceDir(async (dir) => {
      const files = await dir.makeFiles("a", 16 * MiB, 32 * MiB);
      const device = await dir.createDevice("vol0", files.ldev, files.ddev);
      assertEquals(device.name, "vol0");
      const list = await dir.wdevc(["list"]);
      assertEquals(list.stdout, `user vol0 ${device.wdev} ${device.nbdUri}\n`);
      assertEquals(
        (await dir.wdevc(["get-lsids", device.wdev])).stdout,
        "latest       0\ncompleted    0\nflush        0\npermanent    0\nwritten      0\n" +
          "prev_written 0\noldest       0\n",
      );
      assertEquals((await dir.wdevc(["get-log-capacity", device.wdev])).stdout, "32758\n");
      assertEquals((await dir.wdevc(["is-log-overflow", device.wdev])).stdout, "0\n");
      assertEquals((await dir.wdevc(["is-flozen", device.wdev])).stdout, "0\n");
      assertEquals((await dir.wdevc(["get-checkpoint-interval", device.wdev])).stdout, "10000\n");
      // A second device on the same files is refused; a second name is free.
      const again = await dir.wdevc(
        ["create-wdev", files.ldev, files.ddev, "-n", "vol1", "--backend", "user"],
        { allowFailure: true },
      );
      assertEquals(again.code, 1);
      assert(again.stderr.includes("in use by device vol0"), again.stderr);
      await dir.wdevc(["delete-wdev", device.wdev]);
      assertEquals((await dir.wdevc(["list"])).stdout, "");
      const entries = (await Array.fromAsync(Deno.readDir(dir.runDir))).map((e) => e.name);
      // Only the logs stay: vol1's says why it did not start.
      assertEquals(entries.sort(), ["vol0.log", "vol1.log"]);
    }),
});

Deno.test({
  name: "create-wdev names a device without a name wdev0, then wdev1",
  fn: () =>
    withDeviceDir(async (dir) => {
      const a = await dir.makeFiles("a", 4 * MiB, 8 * MiB);
      const b = await dir.makeFiles("b", 4 * MiB, 8 * MiB);
      await dir.wdevc(["format-ldev", a.ldev, a.ddev, "--backend", "user"]);
      await dir.wdevc(["format-ldev", b.ldev, b.ddev, "-nd", "--backend", "user"]);
      assertEquals((await dir.startDevice(a.ldev, a.ddev)).name, "wdev0");
      assertEquals((await dir.startDevice(b.ldev, b.ddev)).name, "wdev1");
      // The name is persisted in the super at the first checkpoint or stop.
      await dir.wdevc(["delete-wdev", `${dir.runDir}/wdev0`]);
      const info = await dir.walb(["wldev-info", a.ldev]);
      assert(info.stdout.includes("name: wdev0"), info.stdout);
    }),
});

Deno.test({
  name: "nbdinfo, nbdcopy and qemu-io see and change the device; the ddev holds it after stop",
  ignore: !HAVE.nbdinfo || !HAVE.nbdcopy || !HAVE.qemuIo,
  fn: () =>
    withDeviceDir(async (dir) => {
      const files = await dir.makeFiles("a", 32 * MiB, 32 * MiB);
      const device = await dir.createDevice("vol0", files.ldev, files.ddev);
      const info = await run("nbdinfo", ["--json", device.nbdUri]);
      const json = JSON.parse(info.stdout) as { exports: { "export-size": number }[] };
      assertEquals(json.exports[0]!["export-size"], 32 * MiB);
      const source = `${dir.dir}/source.img`;
      const random = new Uint8Array(8 * MiB);
      for (let i = 0; i < random.length; i += 65536) {
        crypto.getRandomValues(random.subarray(i, i + 65536));
      }
      await Deno.writeFile(source, random);
      await run("nbdcopy", ["--flush", source, device.nbdUri]);
      const back = `${dir.dir}/back.img`;
      await run("nbdcopy", [device.nbdUri, back]);
      assertEquals(await fileSha1(back, 8 * MiB), await fileSha1(source));
      await run("qemu-io", [
        "-f",
        "raw",
        device.nbdUri,
        "-c",
        "write -P 0x5a 9M 64k",
        "-c",
        "write -z 10M 1M",
        "-c",
        "discard 4M 1M",
        "-c",
        "flush",
        "-c",
        "read -P 0x5a 9M 64k",
        "-c",
        "read -P 0 4M 1M",
      ]);
      const lsids = await dir.lsids(device.wdev);
      checkLsidInvariants(lsids);
      assert(lsids.permanent > 0n, "flushed log is permanent");
      const sha = await deviceSha1({ unixPath: device.nbdPath });
      await dir.wdevc(["delete-wdev", device.wdev]);
      assertEquals(await fileSha1(files.ddev), sha);
    }),
});

Deno.test({
  name: "qemu-img converts an image onto the device and compares it back",
  ignore: !HAVE.qemuImg,
  fn: () =>
    withDeviceDir(async (dir) => {
      const files = await dir.makeFiles("a", 16 * MiB, 16 * MiB);
      const device = await dir.createDevice("vol0", files.ldev, files.ddev);
      const source = `${dir.dir}/source.img`;
      const data = new Uint8Array(16 * MiB);
      for (let i = 0; i < 4 * MiB; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
      await Deno.writeFile(source, data);
      await run("qemu-img", ["convert", "-n", "-f", "raw", "-O", "raw", source, device.nbdUri]);
      await run("qemu-img", ["compare", "-f", "raw", "-F", "raw", source, device.nbdUri]);
      await dir.wdevc(["delete-wdev", device.wdev]);
    }),
});

async function isMountPoint(path: string): Promise<boolean> {
  return (await run("mountpoint", ["-q", path], { allowFailure: true })).code === 0;
}

Deno.test({
  name: "an ext4 filesystem on the device through nbdfuse keeps its files on the ddev",
  ignore: !HAVE.nbdfuse || Deno.uid() !== 0,
  fn: () =>
    withDeviceDir(async (dir) => {
      const files = await dir.makeFiles("a", 32 * MiB, 64 * MiB);
      const device = await dir.createDevice("vol0", files.ldev, files.ddev);
      const fuseDir = `${dir.dir}/fuse`;
      const mountDir = `${dir.dir}/mnt`;
      await Deno.mkdir(fuseDir);
      await Deno.mkdir(mountDir);
      const disk = `${fuseDir}/nbd`;
      const nbdfuse = new Deno.Command("nbdfuse", {
        args: [disk, "--unix", device.nbdPath],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      let mounted = false;
      const payload = new Uint8Array(3 * MiB);
      for (let i = 0; i < payload.length; i += 65536) {
        crypto.getRandomValues(payload.subarray(i, i + 65536));
      }
      try {
        for (let i = 0; i < 200 && !(await isMountPoint(fuseDir)); i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert(await isMountPoint(fuseDir), "nbdfuse mounted");
        await run("mkfs.ext4", ["-q", "-F", disk]);
        await run("mount", ["-o", "loop", disk, mountDir]);
        mounted = true;
        await Deno.writeFile(`${mountDir}/payload.bin`, payload);
        await Deno.writeTextFile(`${mountDir}/hello.txt`, "hello from a walb-ts device\n");
        await run("umount", [mountDir]);
        mounted = false;
      } finally {
        if (mounted) await run("umount", ["-l", mountDir], { allowFailure: true });
        await run("fusermount3", ["-u", fuseDir], { allowFailure: true });
        const timer = setTimeout(() => nbdfuse.kill("SIGKILL"), 10_000);
        await nbdfuse.status;
        clearTimeout(timer);
        await nbdfuse.stderr.cancel();
      }
      const sha = await deviceSha1({ unixPath: device.nbdPath });
      await dir.wdevc(["delete-wdev", device.wdev]);
      assertEquals(await fileSha1(files.ddev), sha, "the ddev holds the device image");
      // Mount the ddev itself read-only: the files are there.
      try {
        await run("mount", ["-o", "loop,ro", files.ddev, mountDir]);
        mounted = true;
        assertEquals(
          await fileSha1(`${mountDir}/payload.bin`),
          sha1Of(payload),
        );
        assertEquals(
          await Deno.readTextFile(`${mountDir}/hello.txt`),
          "hello from a walb-ts device\n",
        );
      } finally {
        if (mounted) await run("umount", [mountDir], { allowFailure: true });
      }
    }),
});

function sha1Of(data: Uint8Array): string {
  return createHash("sha1").update(data).digest("hex");
}
