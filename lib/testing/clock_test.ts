import { assert, assertEquals, assertRejects } from "./assert.ts";
import { ManualClock } from "./clock.ts";
import { RealClock } from "../clock.ts";

Deno.test("ManualClock.advance() wakes sleeps in deadline order", async () => {
  const clock = new ManualClock(100);
  const woken: string[] = [];
  const b = clock.sleep(20).then(() => woken.push(`b@${clock.nowMs()}`));
  const a = clock.sleep(10).then(() => woken.push(`a@${clock.nowMs()}`));
  const c = clock.sleep(20).then(() => woken.push(`c@${clock.nowMs()}`));
  await clock.advance(9);
  assertEquals(woken, []);
  await clock.advance(11);
  await Promise.all([a, b, c]);
  assertEquals(woken, ["a@110", "b@120", "c@120"]);
  assertEquals(clock.nowMs(), 120);
  assertEquals(clock.pendingCount, 0);
});

Deno.test("ManualClock.sleep() rejects on abort and forgets the sleeper", async () => {
  const clock = new ManualClock();
  const controller = new AbortController();
  const sleeping = clock.sleep(1000, controller.signal);
  assertEquals(clock.pendingCount, 1);
  controller.abort(new Error("stop"));
  await assertRejects(() => sleeping, Error, "stop");
  assertEquals(clock.pendingCount, 0);
  await assertRejects(() => clock.sleep(1, controller.signal), Error, "stop");
});

Deno.test("ManualClock.advanceToNext() jumps to the earliest deadline", async () => {
  const clock = new ManualClock();
  const sleeping = clock.sleep(500);
  assert(await clock.advanceToNext());
  await sleeping;
  assertEquals(clock.nowMs(), 500);
  assert(!(await clock.advanceToNext()));
});

Deno.test("RealClock.sleep() resolves and can be aborted", async () => {
  const clock = new RealClock();
  await clock.sleep(1);
  const controller = new AbortController();
  const sleeping = clock.sleep(60_000, controller.signal);
  controller.abort(new Error("cancelled"));
  await assertRejects(() => sleeping, Error, "cancelled");
});
