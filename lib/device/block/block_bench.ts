/**
 * Block-device throughput: 1 MiB sequential writes each followed by fdatasync, and 4 KiB
 * random reads, for FileDevice (page cache, one Deno.FsFile), PosixFileDevice (page cache, pread
 * and pwrite through FFI) and DirectDevice (O_DIRECT) on one 64 MiB file
 * in /var/tmp. Run: `deno bench --allow-all lib/device/block/block_bench.ts`.
 *
 * Expected cost: a 1 MiB write+fdatasync is bounded by the disk's flush latency (ms); a
 * buffered 4 KiB read of cached data costs a syscall and a copy (µs), an O_DIRECT one a real
 * device read (tens of µs on SSD/virtio) plus a copy out of the bounce buffer.
 */
import type { BlockDevice } from "./block_device.ts";
import { DirectDevice } from "./direct_device.ts";
import { FileDevice } from "./file_device.ts";
import { PosixFileDevice } from "./posix_file_device.ts";

const SIZE_BYTES = 64 * 1024 * 1024;
const WRITE_SIZE_BYTES = 1024 * 1024;
const READ_SIZE_BYTES = 4096;

const path = await Deno.makeTempFile({ dir: "/var/tmp", prefix: "walb-block-bench-" });
globalThis.addEventListener("unload", () => Deno.removeSync(path));
// Allocate every block first, so reads hit data and writes do not allocate.
{
  const file = await Deno.open(path, { write: true });
  const chunk = new Uint8Array(WRITE_SIZE_BYTES).fill(0x5a);
  for (let offset = 0; offset < SIZE_BYTES; offset += chunk.length) await file.write(chunk);
  await file.syncData();
  file.close();
}

const devices: Record<string, BlockDevice> = {
  file: await FileDevice.open(path),
  posix: await PosixFileDevice.open(path),
  direct: await DirectDevice.open(path),
};

const data = new Uint8Array(WRITE_SIZE_BYTES).fill(0xa5);
let random = 12345;
function nextReadOffset(): number {
  random = (Math.imul(random, 1664525) + 1013904223) >>> 0;
  return (random % (SIZE_BYTES / READ_SIZE_BYTES)) * READ_SIZE_BYTES;
}

for (const [name, device] of Object.entries(devices)) {
  let writeOffset = 0;
  Deno.bench({
    name: `${name}: 1 MiB sequential write + fdatasync`,
    group: "write",
    baseline: name === "file",
    async fn() {
      await device.write(writeOffset, data);
      await device.flush();
      writeOffset = (writeOffset + WRITE_SIZE_BYTES) % SIZE_BYTES;
    },
  });
  const target = new Uint8Array(READ_SIZE_BYTES);
  Deno.bench({
    name: `${name}: 4 KiB random read`,
    group: "read",
    baseline: name === "file",
    async fn() {
      await device.readInto(nextReadOffset(), target);
    },
  });
}
