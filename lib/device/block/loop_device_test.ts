/**
 * DirectDevice on a real block device: a loop device over a /var/tmp file. Needs root and
 * losetup; skipped (with the reason in the test name) otherwise. Every attached loop device is
 * detached in a `finally`.
 */
import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import { BlockRangeError } from "./block_device.ts";
import { blockDeviceConformance, pattern } from "./conformance_test_suite.ts";
import { DirectDevice } from "./direct_device.ts";
import { openBlockDevice } from "./open.ts";

const TEMP_DIR = "/var/tmp";
const SIZE_BYTES = 8 * 1024 * 1024;

async function losetup(args: string[]): Promise<string> {
  const output = await new Deno.Command("losetup", { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new Error(`losetup ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
  }
  return new TextDecoder().decode(output.stdout).trim();
}

async function skipReason(): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "not root";
  try {
    await new Deno.Command("losetup", { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "losetup is missing";
    throw error;
  }
  try {
    await Deno.stat("/dev/loop-control");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "no /dev/loop-control";
    throw error;
  }
  return undefined;
}

const SKIP = await skipReason();

/** A zeroed backing file attached to a free loop device; `detach()` undoes both. */
async function attachLoop(
  sectorSizeBytes = 512,
): Promise<{ loopPath: string; detach: () => Promise<void> }> {
  const backing = await Deno.makeTempFile({ dir: TEMP_DIR, prefix: "walb-loop-" });
  try {
    await Deno.truncate(backing, SIZE_BYTES);
    const loopPath = await losetup([
      "--find",
      "--show",
      "--sector-size",
      String(sectorSizeBytes),
      backing,
    ]);
    return {
      loopPath,
      detach: async () => {
        try {
          await losetup(["--detach", loopPath]);
        } finally {
          await Deno.remove(backing);
        }
      },
    };
  } catch (error) {
    await Deno.remove(backing);
    throw error;
  }
}

blockDeviceConformance(
  "DirectDevice on a loop device",
  async () => {
    const { loopPath, detach } = await attachLoop();
    try {
      return { device: await DirectDevice.open(loopPath), cleanup: detach };
    } catch (error) {
      await detach();
      throw error;
    }
  },
  SKIP === undefined ? { discardZeroes: true } : { skipReason: SKIP },
);

Deno.test({
  name: `DirectDevice reads BLKGETSIZE64/BLKPBSZGET/BLKSSZGET and discards a loop device${
    SKIP ? ` (skipped: ${SKIP})` : ""
  }`,
  ignore: SKIP !== undefined,
  async fn() {
    const { loopPath, detach } = await attachLoop(4096);
    try {
      const device = await openBlockDevice(loopPath);
      try {
        assert(device instanceof DirectDevice && device.isBlockDevice);
        assertEquals(device.sizeBytes, SIZE_BYTES);
        assertEquals(device.alignmentBytes, 4096); // BLKSSZGET of --sector-size 4096
        assertEquals(device.physicalBlockSize, 4096); // BLKPBSZGET
        await assertRejects(() => device.read(512, 512), BlockRangeError, "multiples of 4096");
        await device.write(0, pattern(0, 65536));
        await device.flush();
        await device.discard(8192, 16384); // BLKDISCARD: a loop device punches a hole
        const bytes = await device.read(0, 65536);
        assertEquals(bytes.subarray(0, 8192), pattern(0, 8192));
        assertEquals(bytes.subarray(8192, 24576), new Uint8Array(16384));
        assertEquals(bytes.subarray(24576), pattern(24576, 65536 - 24576));
        await device.writeZeroes(0, 4096); // BLKZEROOUT
        assertEquals(await device.read(0, 4096), new Uint8Array(4096));
      } finally {
        await device.close();
      }
      const buffered = await openBlockDevice(loopPath, { direct: false, readOnly: true });
      try {
        assertEquals(buffered.sizeBytes, SIZE_BYTES);
        assertEquals(buffered.alignmentBytes, 1);
      } finally {
        await buffered.close();
      }
    } finally {
      await detach();
    }
  },
});
