import { assert, assertRejects } from "../../testing/assert.ts";
import { BlockIoError } from "./block_device.ts";
import { DirectDevice } from "./direct_device.ts";
import { openBlockDevice } from "./open.ts";
import { PosixFileDevice } from "./posix_file_device.ts";

Deno.test("openBlockDevice() opens a regular file as PosixFileDevice, or DirectDevice if asked", async () => {
  const path = await Deno.makeTempFile({ dir: "/var/tmp", prefix: "walb-open-" });
  try {
    await Deno.truncate(path, 65536);
    const buffered = await openBlockDevice(path);
    assert(buffered instanceof PosixFileDevice);
    await buffered.close();
    const direct = await openBlockDevice(path, { direct: true, readOnly: true });
    assert(direct instanceof DirectDevice && direct.readOnly);
    await direct.close();
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("openBlockDevice() rejects directories, character devices and missing paths", async () => {
  await assertRejects(() => openBlockDevice("/var/tmp"), BlockIoError, "not a block device");
  await assertRejects(() => openBlockDevice("/dev/null"), BlockIoError, "not a block device");
  await assertRejects(() => openBlockDevice("/nonexistent/x"), Deno.errors.NotFound);
});
