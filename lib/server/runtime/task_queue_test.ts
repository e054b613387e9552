import { assertEquals } from "../../testing/assert.ts";
import { ManualClock } from "../../testing/clock.ts";
import { DelayedTaskQueue, runDispatcher } from "./task_queue.ts";

Deno.test("DelayedTaskQueue.push() keeps the earlier schedule, pushForce() reschedules", () => {
  const clock = new ManualClock(0);
  const queue = new DelayedTaskQueue<number>(clock);
  queue.push("a", 1, 100);
  queue.push("a", 2, 10);
  assertEquals(queue.list(), [{ key: "a", task: 1, remainingMs: 100 }]);
  queue.pushForce("a", 3, 10);
  assertEquals(queue.list(), [{ key: "a", task: 3, remainingMs: 10 }]);
  queue.push("b", 4, 5);
  assertEquals(queue.list().map((t) => t.key), ["b", "a"]);
  queue.remove("b");
  assertEquals(queue.size, 1);
});

Deno.test("runDispatcher() runs due tasks in due order and stops on abort", async () => {
  const clock = new ManualClock(0);
  const queue = new DelayedTaskQueue<string>(clock);
  const ran: string[] = [];
  const abort = new AbortController();
  queue.push("late", "late", 2000);
  queue.push("early", "early", 1000);
  const done = runDispatcher({
    queue,
    clock,
    workerCount: 1,
    run: (key) => {
      ran.push(key);
      return Promise.resolve();
    },
    onError: () => {},
    signal: abort.signal,
  });
  await clock.advance(1000);
  assertEquals(ran, ["early"]);
  await clock.advance(1000);
  assertEquals(ran, ["early", "late"]);
  abort.abort();
  await clock.advance(1000);
  await done;
});
