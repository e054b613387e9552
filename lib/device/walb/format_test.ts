import { assert, assertEquals, assertRejects, toHex } from "../../testing/assert.ts";
import { MemoryDevice } from "../block/memory_device.ts";
import { WalbEngineError } from "./errors.ts";
import { formatLdev } from "./format.ts";

const UUID = Uint8Array.from({ length: 16 }, (_, i) => i * 0x11);

Deno.test("formatLdev() writes the spec's example super sector and zeroes lsid 0", async () => {
  const ldev = new MemoryDevice({ sizeBytes: 64 * 1024 * 1024 });
  await ldev.write(10 * 512, new Uint8Array(512).fill(0xee)); // stale block at lsid 0
  const ddev = { sizeBytes: 1024 * 1024 * 1024, physicalBlockSize: 512 };
  const sup = await formatLdev(ldev, ddev, { name: "vol0", salt: 0x89abcdef, uuid: UUID });
  assertEquals(sup.ringBufferSize, 131062n);
  assertEquals(sup.checksum, 0xdfa1e10c);
  const block = await ldev.read(4096, 512);
  assertEquals(
    toHex(block.subarray(0, 16)),
    "010002000ce1a1df0002000000020000",
  );
  assertEquals(toHex(await ldev.read(10 * 512, 512)), "00".repeat(512));
});

Deno.test("formatLdev() with pbs 4096 gives the spec's checksum", async () => {
  const ldev = new MemoryDevice({ sizeBytes: 64 * 1024 * 1024, physicalBlockSize: 4096 });
  const ddev = { sizeBytes: 1024 * 1024 * 1024, physicalBlockSize: 4096 };
  const sup = await formatLdev(ldev, ddev, { name: "vol0", salt: 0x89abcdef, uuid: UUID });
  assertEquals(sup.ringBufferSize, 16381n);
  assertEquals(sup.checksum, 0xdfa39305);
});

Deno.test("formatLdev() rejects mismatched pbs, long names and a tiny ldev", async () => {
  const ldev = new MemoryDevice({ sizeBytes: 1 << 20 });
  const error = await assertRejects(
    () => formatLdev(ldev, { sizeBytes: 1 << 20, physicalBlockSize: 4096 }),
    WalbEngineError,
  );
  assertEquals(error.code, "EINVAL");
  await assertRejects(
    () => formatLdev(ldev, ldev, { name: "x".repeat(26) }),
    WalbEngineError,
  );
  const tiny = new MemoryDevice({ sizeBytes: 10 * 512 });
  const tinyError = await assertRejects(() => formatLdev(tiny, tiny), WalbEngineError);
  assert(tinyError.message.includes("too small"), tinyError.message);
});

Deno.test("formatLdev() draws salt and uuid from the random source", async () => {
  const ldev = new MemoryDevice({ sizeBytes: 1 << 20 });
  const sup = await formatLdev(ldev, ldev, { random: (target) => target.fill(7) });
  assertEquals(sup.salt, 0x07070707);
  assertEquals(toHex(sup.uuid), "07".repeat(16));
});
