import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { BackgroundSync } from "./background_sync.ts";

Deno.test("BackgroundSync runs one sync at a time and reports its error later", async () => {
  const resolvers: PromiseWithResolvers<void>[] = [];
  const sync = new BackgroundSync(() => {
    const resolver = Promise.withResolvers<void>();
    resolvers.push(resolver);
    return resolver.promise;
  });
  assert(await sync.tryStart(), "first sync started");
  assert(!(await sync.tryStart()), "not while one runs");
  assertEquals(resolvers.length, 1);
  resolvers[0]!.reject(new Error("EIO"));
  await new Promise((resolve) => setTimeout(resolve, 0));
  await assertRejects(() => sync.tryStart(), Error, "EIO");
  assert(await sync.tryStart(), "started again after the error was reported");
  resolvers[1]!.resolve();
  await sync.settle();
  await sync.settle(); // nothing running: returns at once
});
