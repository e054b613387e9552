/**
 * Bad input to the userland WalB device: wrong ldev/ddev sizes, a corrupt super, a file that
 * is no ldev, an out-of-range set-oldest-lsid, a path that is no device, NBD requests past
 * the end. Each gives a clear error (exit 1, one ERROR line) and corrupts nothing.
 */
import { assert, assertEquals } from "../../lib/testing/assert.ts";
import { deviceSha1 } from "../../lib/testing/harness.ts";
import { NbdRequestError, NbdTestClient } from "../../lib/testing/nbd_client.ts";
import { type DeviceDir, MiB, withDeviceDir } from "./device_support.ts";

/** Runs `wdevc args`, expects exit 1 with an ERROR line containing `expected`. */
async function expectFailure(dir: DeviceDir, args: string[], expected: string): Promise<void> {
  const out = await dir.wdevc(args, { allowFailure: true });
  assertEquals(out.code, 1, `wdevc ${args.join(" ")}: ${out.stdout}${out.stderr}`);
  assert(/ ERROR wdevc:/.test(out.stderr), out.stderr);
  assert(out.stderr.includes(expected), `expected "${expected}" in: ${out.stderr}`);
}

Deno.test({
  name: "create-wdev refuses a ddev smaller than the device, a corrupt super and a non-WalB file",
  fn: () =>
    withDeviceDir(async (dir) => {
      const files = await dir.makeFiles("a", 4 * MiB, 8 * MiB);
      await dir.wdevc(["format-ldev", files.ldev, files.ddev, "-n", "vol0", "--backend", "user"]);
      const ldevBefore = await Deno.readFile(files.ldev);
      await Deno.truncate(files.ddev, 4 * MiB);
      await expectFailure(
        dir,
        ["create-wdev", files.ldev, files.ddev, "--backend", "user"],
        "device_size",
      );
      assertEquals(await Deno.readFile(files.ldev), ldevBefore, "the ldev is untouched");
      await Deno.truncate(files.ddev, 8 * MiB);
      // One flipped byte in the super (at 4096 + 40: the salt).
      const file = await Deno.open(files.ldev, { read: true, write: true });
      await file.seek(4096 + 40, Deno.SeekMode.Start);
      await file.write(new Uint8Array([0xff]));
      file.close();
      await expectFailure(
        dir,
        ["create-wdev", files.ldev, files.ddev, "--backend", "user"],
        "super",
      );
      const junk = `${dir.dir}/junk`;
      await Deno.writeFile(junk, crypto.getRandomValues(new Uint8Array(65536)));
      await Deno.truncate(junk, 4 * MiB);
      await expectFailure(
        dir,
        ["create-wdev", junk, files.ddev, "-n", "x", "--backend", "user"],
        "super",
      );
      assertEquals((await dir.wdevc(["list"])).stdout, "");
    }),
});

Deno.test({
  name: "format-ldev refuses an ldev too small for a ring, and bad start parameters are refused",
  fn: () =>
    withDeviceDir(async (dir) => {
      const files = await dir.makeFiles("a", 4096, 8 * MiB);
      await expectFailure(
        dir,
        ["format-ldev", files.ldev, files.ddev, "--backend", "user"],
        "format ldev",
      );
      const good = await dir.makeFiles("b", 4 * MiB, 8 * MiB);
      await dir.wdevc(["format-ldev", good.ldev, good.ddev, "--backend", "user"]);
      await expectFailure(
        dir,
        ["create-wdev", good.ldev, good.ddev, "-maxp", "8", "-minp", "8", "--backend", "user"],
        "min_pending_mb",
      );
      await expectFailure(
        dir,
        ["create-wdev", good.ldev, good.ddev, "-n", "a/b", "--backend", "user"],
        "'/'",
      );
      await expectFailure(dir, ["create-wdev", good.ldev, good.ddev, "--backend", "nope"], "nope");
    }),
});

Deno.test({
  name:
    "set-oldest-lsid out of range, a non-device path and NBD requests past the end fail cleanly",
  fn: () =>
    withDeviceDir(async (dir) => {
      const files = await dir.makeFiles("a", 4 * MiB, 4 * MiB);
      const device = await dir.createDevice("vol0", files.ldev, files.ddev);
      const client = await NbdTestClient.connect({ unixPath: device.nbdPath });
      try {
        await client.write(0, new Uint8Array(8192).fill(3));
        await client.flush();
        for (const [offset, length] of [[4 * MiB, 512], [4 * MiB - 512, 1024]] as const) {
          try {
            await client.write(offset, new Uint8Array(length));
            throw new Error("a write past the end succeeded");
          } catch (error) {
            if (!(error instanceof NbdRequestError)) throw error;
          }
        }
        assertEquals((await client.read(0, 512))[0], 3, "the device still serves");
      } finally {
        await client.disconnect();
      }
      const sha = await deviceSha1({ unixPath: device.nbdPath });
      const before = await dir.lsids(device.wdev);
      await expectFailure(dir, ["set-oldest-lsid", device.wdev, "1000000"], "set oldest lsid");
      await expectFailure(dir, ["set-oldest-lsid", device.wdev, "1"], "set oldest lsid");
      assertEquals(await dir.lsids(device.wdev), before);
      await expectFailure(dir, ["get-lsids", files.ldev], "not a unix socket");
      await expectFailure(dir, ["get-lsids", `${dir.runDir}/nothing`], "no such file");
      await expectFailure(dir, ["resize", device.wdev, "4"], "shrinking");
      await expectFailure(dir, ["bogus-command"], "unknown command");
      assertEquals(await deviceSha1({ unixPath: device.nbdPath }), sha);
      await dir.wdevc(["delete-wdev", device.wdev]);
    }),
});
