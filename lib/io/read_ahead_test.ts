import { assertEquals, assertRejects } from "../testing/assert.ts";
import { readAhead } from "./read_ahead.ts";

Deno.test("readAhead() keeps order and runs at most countMax items ahead", async () => {
  let produced = 0;
  let consumed = 0;
  let aheadMax = 0;
  async function* source() {
    for (let i = 0; i < 20; i++) {
      await Promise.resolve();
      produced++;
      aheadMax = Math.max(aheadMax, produced - consumed);
      yield i;
    }
  }
  const seen: number[] = [];
  for await (const value of readAhead(source(), 3)) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    consumed++;
    seen.push(value);
  }
  assertEquals(seen, Array.from({ length: 20 }, (_, i) => i));
  assertEquals(aheadMax <= 4, true);
  assertEquals(aheadMax >= 2, true);
});

Deno.test("readAhead() throws the source's error in turn", async () => {
  async function* source() {
    yield 1;
    throw new Error("bad read");
  }
  const seen: number[] = [];
  await assertRejects(
    async () => {
      for await (const value of readAhead(source(), 2)) seen.push(value);
    },
    Error,
    "bad read",
  );
  assertEquals(seen, [1]);
});

Deno.test("readAhead() closes the source when the consumer stops early", async () => {
  let closed = false;
  async function* source() {
    try {
      for (let i = 0; i < 100; i++) yield i;
    } finally {
      closed = true;
    }
  }
  for await (const value of readAhead(source(), 2)) if (value === 1) break;
  assertEquals(closed, true);
});
