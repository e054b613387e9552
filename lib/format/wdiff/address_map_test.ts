import { assertEquals } from "../../testing/assert.ts";
import { seededPrng } from "../../testing/random.ts";
import { AddressMap } from "./address_map.ts";

Deno.test("AddressMap removeOverlapping() agrees with a per-block model", () => {
  const prng = seededPrng("AddressMap removeOverlapping()");
  const seed = prng.seed;
  const random = () => prng.next();
  const map = new AddressMap<{ ioAddress: number; ioBlocks: number; id: number }>();
  const model = new Array<number>(4096).fill(-1);
  for (let id = 0; id < 3000; id++) {
    const start = Math.floor(random() * 4000);
    const blocks = 1 + Math.floor(random() * 64);
    const end = Math.min(4096, start + blocks);
    for (const old of map.removeOverlapping(start, end)) {
      const oldEnd = old.ioAddress + old.ioBlocks;
      if (old.ioAddress < start) {
        map.insert({ ioAddress: old.ioAddress, ioBlocks: start - old.ioAddress, id: old.id });
      }
      if (oldEnd > end) map.insert({ ioAddress: end, ioBlocks: oldEnd - end, id: old.id });
    }
    map.insert({ ioAddress: start, ioBlocks: end - start, id });
    model.fill(id, start, end);
  }
  const actual = new Array<number>(4096).fill(-1);
  let previousEnd = 0;
  let count = 0;
  for (const entry of map.values()) {
    assertEquals(entry.ioAddress >= previousEnd, true, `seed=${seed}`);
    previousEnd = entry.ioAddress + entry.ioBlocks;
    actual.fill(entry.id, entry.ioAddress, previousEnd);
    count++;
  }
  assertEquals(count, map.size);
  assertEquals(actual, model, `seed=${seed}`);
});
