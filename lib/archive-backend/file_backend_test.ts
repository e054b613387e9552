import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { FileBackend } from "./file_backend.ts";

Deno.test("FileBackend: create, snapshot (sparse copy), resize, rename, list, remove", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const backend = new FileBackend(dir);
    await backend.create("wb_v", 3 << 20);
    assertEquals(await backend.sizeBytes("wb_v"), 3 << 20);
    const device = await backend.open("wb_v");
    await device.write(2 << 20, new Uint8Array(512).fill(7));
    await device.close();
    await backend.snapshot("wb_v", "wr_v_1_tmp");
    const copy = await backend.open("wr_v_1_tmp", { readOnly: true });
    assertEquals((await copy.read(2 << 20, 512))[100], 7);
    assertEquals((await copy.read(0, 512))[0], 0);
    await copy.close();
    const stat = await Deno.stat(backend.path("wr_v_1_tmp"));
    assert(stat.blocks! * 512 < 3 << 20, `sparse copy uses ${stat.blocks} blocks`);
    await backend.rename("wr_v_1_tmp", "wr_v_1");
    await backend.resize("wb_v", 4 << 20);
    await assertRejects(() => backend.resize("wb_v", 1 << 20), RangeError);
    await Deno.writeFile(`${dir}/other`, new Uint8Array(1));
    assertEquals((await backend.list()).map((i) => `${i.name}:${i.sizeBytes}`), [
      `wb_v:${4 << 20}`,
      `wr_v_1:${3 << 20}`,
    ]);
    await backend.remove("wr_v_1");
    assert(!(await backend.exists("wr_v_1")));
    assertEquals(backend.path("wb_v"), `${dir}/wb_v`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileBackend: list() skips an image renamed or removed while it lists", async () => {
  // A restore renames `wr_VOL_GID_tmp` to `wr_VOL_GID` while `get restored` lists the
  // directory: an entry read by readDir may be gone by the time list() stats it.
  const dir = await Deno.makeTempDir();
  try {
    const backend = new FileBackend(dir);
    const count = 64;
    for (let i = 0; i < count; i++) await backend.create(`wr_v_${i}_tmp`, 512);
    let stop = false;
    const renamer = (async () => {
      for (let round = 0; !stop; round++) {
        for (let i = 0; i < count; i++) {
          const [from, to] = round % 2 === 0
            ? [`wr_v_${i}_tmp`, `wr_v_${i}`]
            : [`wr_v_${i}`, `wr_v_${i}_tmp`];
          await Deno.rename(`${dir}/${from}`, `${dir}/${to}`);
        }
      }
    })();
    try {
      for (let i = 0; i < 300; i++) {
        for (const image of await backend.list()) {
          assert(/^wr_v_[0-9]+(_tmp)?$/.test(image.name), image.name);
          assertEquals(image.sizeBytes, 512);
        }
      }
    } finally {
      stop = true;
      await renamer;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileBackend: snapshot() copies data extents exactly, shorter or longer than the origin", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const backend = new FileBackend(dir);
    const size = 9 << 20;
    await backend.create("wb_v", size);
    const device = await backend.open("wb_v");
    const pattern = (seed: number, length: number) =>
      Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
    await device.write(0, pattern(1, 4096));
    await device.write((3 << 20) + 512, pattern(2, 3 << 20));
    await device.write(size - 512, pattern(3, 512));
    await device.close();
    const origin = await Deno.readFile(backend.path("wb_v"));
    for (const sizeBytes of [size, 5 << 20, 12 << 20]) {
      await backend.snapshot("wb_v", "wr_v_1_tmp", { sizeBytes });
      const copy = await Deno.readFile(backend.path("wr_v_1_tmp"));
      assertEquals(copy.length, sizeBytes);
      const expected = new Uint8Array(sizeBytes);
      expected.set(origin.subarray(0, Math.min(size, sizeBytes)));
      assert(copy.every((byte, i) => byte === expected[i]), `copy of ${sizeBytes} bytes differs`);
      const stat = await Deno.stat(backend.path("wr_v_1_tmp"));
      assert(stat.blocks! * 512 <= 6 << 20, `sparse copy uses ${stat.blocks} blocks`);
      await backend.remove("wr_v_1_tmp");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileBackend.open({ direct }) uses O_DIRECT where it can, else buffered I/O", async () => {
  const cases = [
    // ext4 (the temp dir here): O_DIRECT with a 512-byte alignment.
    { dir: await Deno.makeTempDir(), direct: true },
    // tmpfs has no O_DIRECT: the same calls through the page cache.
    { dir: await Deno.makeTempDir({ dir: "/dev/shm" }), direct: false },
  ];
  for (const { dir, direct } of cases) {
    try {
      const backend = new FileBackend(dir);
      await backend.create("wb_v", (1 << 20) + 512); // not a multiple of 4096
      const device = await backend.open("wb_v", { direct: true });
      assertEquals(device.alignmentBytes > 1, direct, `${dir}: alignment ${device.alignmentBytes}`);
      assertEquals(device.sizeBytes, (1 << 20) + 512);
      await device.write(1 << 20, new Uint8Array(512).fill(9)); // the last 512 bytes
      await device.writeZeroes(0, 4096);
      await device.flush();
      await device.close();
      const bytes = await Deno.readFile(backend.path("wb_v"));
      assertEquals(bytes.length, (1 << 20) + 512);
      assertEquals(bytes[(1 << 20) + 511], 9);
      assertEquals(bytes[(1 << 20) - 1], 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});
