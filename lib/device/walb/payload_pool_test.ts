import { AssertionError } from "../../errors.ts";
import { assert, assertEquals, assertThrows } from "../../testing/assert.ts";
import { PayloadPool } from "./payload_pool.ts";

Deno.test("PayloadPool.take() lends a buffer that comes back after its last hold", () => {
  const pool = new PayloadPool({ bytesMax: 1 << 20, poisonByte: 0xa5 });
  const view = pool.take(65536 + 512);
  assertEquals(view.length, 65536 + 512);
  const lease = pool.adopt(view);
  assert(lease !== undefined, "a lent buffer is adopted");
  assertEquals(pool.adopt(view), undefined, "adopted once");
  assertEquals(pool.adopt(new Uint8Array(4096)), undefined, "not lent");
  lease.retain();
  lease.release();
  assertEquals(pool.freeBytes, 0, "still held");
  lease.release();
  assertEquals(pool.freeBytes, 69632, "back, rounded up to pages");
  assertEquals(view[0], 0xa5, "poisoned on return");
  assertThrows(() => lease.release(), AssertionError);
  assertThrows(() => lease.retain(), AssertionError);
  const again = pool.takeHeld(65536 + 4096);
  assertEquals(again.lease.whole, lease.whole, "the same size class is reused");
  assertEquals(pool.reused, 1);
});

Deno.test("PayloadPool keeps at most bytesMax free and a miss evicts other sizes", () => {
  const pool = new PayloadPool({ bytesMax: 3 * 65536 });
  const big = [0, 1, 2, 3].map(() => pool.takeHeld(65536).lease);
  for (const lease of big) lease.release();
  assertEquals(pool.freeBytes, 3 * 65536, "the fourth is dropped");
  const small = pool.takeHeld(8192).lease;
  assertEquals(pool.freeBytes, 2 * 65536, "a miss drops a buffer of another size");
  small.release();
  pool.takeHeld(8192);
  assertEquals(pool.reused, 1, "the small size is kept now");
});
