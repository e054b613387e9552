import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { BufferPool } from "./buffer_pool.ts";

Deno.test("BufferPool reuses buffers by exact size up to its byte limit", () => {
  const pool = new BufferPool(10_000);
  const a = pool.take(4096);
  const b = pool.take(4096);
  pool.give(a);
  pool.give(b);
  assertEquals(pool.bytes, 8192);
  pool.give(new Uint8Array(4096)); // over the limit: dropped
  assertEquals(pool.bytes, 8192);
  assert(pool.take(512) !== a, "another size is new");
  const again = [pool.take(4096), pool.take(4096)];
  assert(again.includes(a) && again.includes(b), "both reused");
  assertEquals(pool.bytes, 0);
  assertThrows(() => pool.give(new Uint8Array(8).subarray(1)), Error, "whole buffers");
});
