import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import type { BlockDevice } from "../block/block_device.ts";
import { MemoryDevice } from "../block/memory_device.ts";
import { applyDataIos, type DataIo, groupDataIos, mergeGroup } from "./data_io.ts";
import { WALB_ENGINE_LIMITS } from "./limits.ts";

function write(offsetBytes: number, lengthBytes: number, fill: number): DataIo {
  return { offsetBytes, lengthBytes, data: new Uint8Array(lengthBytes).fill(fill) };
}

Deno.test("groupDataIos() starts a new group at the first overlapping IO", () => {
  const ios = [
    write(0, 512, 1),
    write(70_000, 4096, 2), // another bucket
    write(4096, 512, 3),
    write(70_000 + 4095, 512, 4), // overlaps the second
    write(0, 512, 5), // does not overlap anything of the new group
  ];
  const groups = groupDataIos(ios);
  assertEquals(groups.map((group) => group.map((io) => io.data![0])), [[1, 2, 3], [4, 5]]);
  const discard: DataIo = { offsetBytes: 1024, lengthBytes: 200_000, data: null };
  assertEquals(groupDataIos([write(150_000, 512, 1), discard]).length, 2, "spans buckets");
});

Deno.test("mergeGroup() joins writes that touch end to end, in offset order", () => {
  const { writes, discards } = mergeGroup([
    write(8192, 4096, 3),
    write(0, 4096, 1),
    write(4096, 4096, 2),
    { offsetBytes: 12288, lengthBytes: 512, data: null },
    write(12800, 512, 4),
    write(20480, 512, 5),
  ]);
  assertEquals(
    writes.map((run) => [run.offsetBytes, run.lengthBytes, run.parts.length]),
    [[0, 12288, 3], [12800, 512, 1], [20480, 512, 1]],
  );
  assertEquals(writes[0]!.parts.map((part) => part[0]), [1, 2, 3]);
  assertEquals(discards.length, 1);
});

Deno.test("applyDataIos() lets the later lsid win and merges on a gather device", async () => {
  const ddev: BlockDevice = new MemoryDevice({ sizeBytes: 1 << 20 });
  const gathers: number[] = [];
  ddev.writeGather = async (offsetBytes: number, parts: readonly Uint8Array[]) => {
    gathers.push(parts.length);
    let position = offsetBytes;
    for (const part of parts) {
      await ddev.write(position, part);
      position += part.length;
    }
  };
  await ddev.write(65536, new Uint8Array(512).fill(7));
  await applyDataIos(ddev, [
    write(0, 4096, 1),
    write(4096, 4096, 2),
    write(2048, 512, 3), // overlaps: next group, wins over 1
    { offsetBytes: 65536, lengthBytes: 512, data: null },
  ]);
  const image = await ddev.read(0, 8192);
  assertEquals([image[0], image[2048], image[2560], image[4096]], [1, 3, 1, 2]);
  assertEquals((await ddev.read(65536, 1))[0], 0, "discarded");
  assertEquals(gathers, [2, 1]);
});

Deno.test("applyDataIos() writes part by part on a device without gather writes", async () => {
  const ddev: BlockDevice = new MemoryDevice({ sizeBytes: 1 << 20 });
  assert(ddev.writeGather === undefined, "memory has no gather write");
  await applyDataIos(ddev, [write(0, 512, 1), write(512, 512, 2)]);
  const image = await ddev.read(0, 1024);
  assertEquals([image[0], image[512]], [1, 2]);
});

Deno.test("applyDataIos() pauses between writes once a slice of time is used", async () => {
  const ddev = new MemoryDevice({ sizeBytes: 1 << 20 });
  let pauses = 0;
  const ios = [write(0, 512, 1), write(4096, 512, 2), write(8192, 512, 3)];
  await applyDataIos(ddev, ios, {
    slice: {
      sliceMs: 0,
      pause: () => {
        pauses++;
        return Promise.resolve();
      },
    },
  });
  assertEquals(pauses, 3, "a pause after every write with a zero slice");
  const image = await ddev.read(0, 8704);
  assertEquals([image[0], image[4096], image[8192]], [1, 2, 3]);
});

Deno.test("applyDataIos() keeps at most applyCallsMax calls in flight and reports a failure", async () => {
  const ddev: BlockDevice = new MemoryDevice({ sizeBytes: 1 << 20 });
  let running = 0;
  let most = 0;
  const plainWrite = ddev.write.bind(ddev);
  ddev.write = async (offsetBytes: number, data: Uint8Array) => {
    running++;
    most = Math.max(most, running);
    await new Promise((resolve) => setTimeout(resolve, 1));
    running--;
    if (offsetBytes === 4096 * 5) throw new Error("bad sector");
    await plainWrite(offsetBytes, data);
  };
  const ios = Array.from({ length: 20 }, (_, index) => write(index * 4096, 512, index + 1));
  const error = await assertRejects(() => applyDataIos(ddev, ios), Error, "bad sector");
  assert(error instanceof Error);
  assertEquals(most, WALB_ENGINE_LIMITS.applyCallsMax);
  assertEquals(running, 0, "every call settled before the failure was reported");
  assertEquals((await ddev.read(4096 * 19, 1))[0], 20, "later writes still ran");
});

Deno.test("applyDataIos() sends a group's single-part writes as one list write", async () => {
  const ddev: BlockDevice = new MemoryDevice({ sizeBytes: 1 << 20 });
  const lists: number[] = [];
  ddev.writeList = async (writes) => {
    lists.push(writes.length);
    for (const write of writes) await ddev.write(write.offsetBytes, write.data);
  };
  await applyDataIos(ddev, [
    write(0, 512, 1),
    write(8192, 512, 2),
    write(16384, 512, 3),
    write(16896, 512, 4), // touches the previous one: merged, not listed
    write(0, 512, 5), // overlaps: next group
  ]);
  assertEquals(lists, [2, 1]);
  const image = await ddev.read(0, 17408);
  assertEquals([image[0], image[8192], image[16384], image[16896]], [5, 2, 3, 4]);
});
