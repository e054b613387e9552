import { assert, assertEquals, assertThrows } from "../../testing/assert.ts";
import { AssertionError } from "../../errors.ts";
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

Deno.test("AddressMap.insertAll() fills a gap in order and splits full chunks", () => {
  const map = new AddressMap<{ ioAddress: number; ioBlocks: number }>();
  const evens = Array.from({ length: 3000 }, (_, i) => ({ ioAddress: 4 * i, ioBlocks: 2 }));
  map.insertAll(evens); // one gap: the empty map; 3000 entries need several chunks
  assertEquals(map.size, 3000);
  // Refill the hole of each removed entry with two entries, here and there.
  for (const at of [0, 1234, 2999, 777]) {
    assertEquals(map.removeOverlapping(4 * at, 4 * at + 2).length, 1);
    map.insertAll([{ ioAddress: 4 * at, ioBlocks: 1 }, { ioAddress: 4 * at + 1, ioBlocks: 3 }]);
  }
  assertEquals(map.size, 3004);
  let previousEnd = 0;
  for (const entry of map.values()) {
    assert(entry.ioAddress >= previousEnd, `entry at ${entry.ioAddress} overlaps`);
    previousEnd = entry.ioAddress + entry.ioBlocks;
  }
  assertEquals(map.removeOverlapping(4 * 1234, 4 * 1234 + 4).length, 2);
  assertThrows(() => map.insertAll([{ ioAddress: 1, ioBlocks: 1 }]), AssertionError);
  assertThrows(
    () =>
      map.insertAll([{ ioAddress: 4 * 1234, ioBlocks: 2 }, {
        ioAddress: 4 * 1234 + 1,
        ioBlocks: 1,
      }]),
    AssertionError,
  );
});
