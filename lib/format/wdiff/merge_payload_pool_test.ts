import { assert, assertEquals } from "../../testing/assert.ts";
import { PayloadPool } from "./merge_payload_pool.ts";

Deno.test("PayloadPool.take() reuses a buffer only after the output passed its pack", () => {
  const pool = new PayloadPool();
  const a = pool.take(5000);
  const b = pool.take(3000);
  assertEquals([a.length, b.length], [5000, 3000]);
  pool.add(a, 100);
  pool.add(b, 50);
  pool.releaseThrough(60); // b only
  assertEquals(pool.size, 1);
  const c = pool.take(4000);
  assert(c.buffer === b.buffer, "the released buffer is reused");
  assert(pool.take(10).buffer !== a.buffer, "a still waits for the output");
  pool.releaseThrough(100);
  assertEquals(pool.size, 0);
  assert(pool.take(1).buffer === a.buffer, "a is reused once passed");
});

Deno.test("PayloadPool.take() picks the smallest idle buffer that fits, skips detached ones", () => {
  const pool = new PayloadPool();
  const small = pool.take(1024 * 1024);
  const large = pool.take(3 * 1024 * 1024);
  const detached = pool.take(10);
  pool.add(large, 1);
  pool.add(small, 1);
  pool.add(detached, 1);
  detached.buffer.transfer(0); // e.g. freed by LazyDataRecord.releaseData()
  pool.releaseThrough(1);
  assert(pool.take(1000).buffer === small.buffer, "the smallest fitting buffer");
  assert(pool.take(2 * 1024 * 1024).buffer === large.buffer, "the one that fits");
  const fresh = pool.take(10);
  assertEquals(fresh.buffer.detached, false);
  assertEquals(fresh.length, 10);
});

Deno.test("PayloadPool frees what it would keep idle beyond its limit", () => {
  const pool = new PayloadPool();
  const payloads = Array.from({ length: 3 }, () => pool.take(30 * 1024 * 1024));
  for (const payload of payloads) pool.add(payload, 7);
  pool.releaseThrough(7);
  assertEquals(payloads.map((p) => p.buffer.detached), [false, false, true]);
});

Deno.test("PayloadPool.take() drops a buffer detached after it was given back", () => {
  const pool = new PayloadPool();
  const payload = pool.take(100);
  pool.add(payload, 1);
  pool.releaseThrough(1);
  payload.buffer.transfer(0);
  const next = pool.take(100);
  assertEquals(next.buffer.detached, false);
  assertEquals(next.length, 100);
});
