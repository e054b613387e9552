import { assertEquals } from "../../testing/assert.ts";
import { nextRetryDelayMs, retryDelayOf } from "./worker.ts";

Deno.test("retryDelayOf() follows delay(R, W) of the storage worker", () => {
  assertEquals(retryDelayOf(64, 128), 100);
  assertEquals(retryDelayOf(100, 128), 100);
  assertEquals(retryDelayOf(12, 128), 1000);
  assertEquals(retryDelayOf(0, 128), 1000);
  // 10R − W = 72, 4W = 512: 1000 − ⌊900·72/512⌋ = 874
  assertEquals(retryDelayOf(20, 128), 874);
  assertEquals(retryDelayOf(63, 128), 1000 - Math.floor(900 * 502 / 512));
});

Deno.test("nextRetryDelayMs() starts at -delay and doubles up to -maxdelay", () => {
  assertEquals(nextRetryDelayMs(0, 1000, 300_000), 1000);
  assertEquals(nextRetryDelayMs(1000, 1000, 300_000), 2000);
  assertEquals(nextRetryDelayMs(200_000, 1000, 300_000), 300_000);
});
