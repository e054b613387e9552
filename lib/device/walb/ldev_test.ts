import { assertEquals } from "../../testing/assert.ts";
import type { BlockDevice } from "../block/block_device.ts";
import { MemoryDevice } from "../block/memory_device.ts";
import { joinParts, LdevRing, sliceParts } from "./ldev.ts";

Deno.test("sliceParts() and joinParts() view parts as one array", () => {
  const parts = [Uint8Array.of(1, 2, 3), Uint8Array.of(), Uint8Array.of(4, 5), Uint8Array.of(6)];
  assertEquals(sliceParts(parts, 2, 3).map((part) => Array.from(part)), [[3], [4, 5]]);
  assertEquals(sliceParts(parts, 0, 6).length, 3, "the empty part is skipped");
  assertEquals(joinParts(sliceParts(parts, 1, 5), 5), Uint8Array.of(2, 3, 4, 5, 6));
  assertEquals(joinParts([parts[0]!], 3), parts[0], "one whole part is not copied");
});

Deno.test("LdevRing.writeGather() wraps at the ring end, with or without device gather writes", async () => {
  for (const gather of [false, true]) {
    const device: BlockDevice = new MemoryDevice({ sizeBytes: 64 * 512 });
    const calls: number[] = [];
    if (gather) {
      device.writeGather = (offsetBytes: number, parts: readonly Uint8Array[]) => {
        calls.push(parts.length);
        return device.write(offsetBytes, joinParts(parts, parts.reduce((n, p) => n + p.length, 0)));
      };
    }
    const ring = new LdevRing(device, { pbs: 512, ringBufferSize: 16n });
    const parts = [new Uint8Array(700).fill(1), new Uint8Array(836).fill(2)]; // 3 pb
    await ring.writeGather(14n, parts);
    const back = await ring.read(14n, 3);
    assertEquals(back, joinParts(parts, 1536));
    assertEquals((await ring.read(16n, 1))[0], 2, "pb 16 is pb 0 of the ring");
    assertEquals(calls, gather ? [2, 1] : []);
  }
});
