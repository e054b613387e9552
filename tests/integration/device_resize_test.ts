/**
 * `wdevc resize` on a userland device after its ddev file grew: the daemon reads the ddev's
 * size again (the driver sees a grown ddev at once), so no restart is needed.
 */
import { assertEquals } from "../../lib/testing/assert.ts";
import { NbdTestClient } from "../../lib/testing/nbd_client.ts";
import { MiB, withDeviceDir } from "./device_support.ts";

Deno.test({
  name: "wdevc resize 0 grows a userland device to a ddev grown after create-wdev",
  fn: () =>
    withDeviceDir(async (dir) => {
      const files = await dir.makeFiles("a", 4 * MiB, 8 * MiB);
      const device = await dir.createDevice("vol0", files.ldev, files.ddev);
      await Deno.truncate(files.ddev, 12 * MiB);
      await dir.wdevc(["resize", device.wdev, "0"]);
      const client = await NbdTestClient.connect({ unixPath: device.nbdPath });
      try {
        assertEquals(client.sizeBytes, 12 * MiB, "a new connection sees the new size");
        await client.write(12 * MiB - 4096, new Uint8Array(4096).fill(5));
        await client.flush();
        assertEquals((await client.read(12 * MiB - 4096, 4096))[100], 5);
      } finally {
        await client.disconnect();
      }
      await dir.wdevc(["delete-wdev", device.wdev]);
      const ddev = await Deno.readFile(files.ddev);
      assertEquals(ddev[12 * MiB - 1], 5, "the write reached the grown ddev");
      const info = await dir.walb(["wldev-info", files.ldev]);
      assertEquals(info.stdout.includes(`${(12 * MiB) / 512}`), true, info.stdout);
    }),
});
