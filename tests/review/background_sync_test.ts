/**
 * Review of the background fdatasync helpers (lib/io/background_sync.ts,
 * lib/io/writeback_sink.ts): on Linux a failed writeback is reported once, to the first
 * fdatasync that sees it, so an EIO of a background sync must surface before whatever the
 * waited sync covers is acknowledged or renamed, even when the waited sync itself succeeds.
 */
import { BackgroundSync } from "../../lib/io/background_sync.ts";
import { WritebackSink } from "../../lib/io/writeback_sink.ts";
import { assert, assertRejects } from "../../lib/testing/assert.ts";

/** A file whose n-th syncData fails with EIO (later ones succeed, as on Linux). */
function fakeFile(failingSync: number): { file: Deno.FsFile; syncs: () => number } {
  let syncs = 0;
  const file = {
    writeSync(p: Uint8Array): number {
      return p.length;
    },
    syncData(): Promise<void> {
      syncs++;
      if (syncs === failingSync) return Promise.reject(new Error("EIO (background)"));
      return Promise.resolve();
    },
  };
  return { file: file as unknown as Deno.FsFile, syncs: () => syncs };
}

Deno.test("review: WritebackSink reports a failed background sync at finish()", async () => {
  const { file, syncs } = fakeFile(1);
  const sink = new WritebackSink(file, { intervalBytes: 4 });
  await sink.write(new Uint8Array(8)); // starts background sync 1, which fails
  await new Promise((resolve) => setTimeout(resolve, 0));
  await assertRejects(() => sink.finish(), Error, "EIO");
  assert(syncs() === 1, "the final sync (which would succeed) is not trusted");
});

Deno.test("review: WritebackSink refuses writes after a failed background sync", async () => {
  const { file } = fakeFile(1);
  const sink = new WritebackSink(file, { intervalBytes: 4 });
  await sink.write(new Uint8Array(8));
  await new Promise((resolve) => setTimeout(resolve, 0));
  await assertRejects(() => sink.write(new Uint8Array(1)), Error, "EIO");
  await assertRejects(() => sink.finish(), Error, "EIO");
});

Deno.test("review: BackgroundSync.settle() reports a sync that failed while refused", async () => {
  const resolvers: PromiseWithResolvers<void>[] = [];
  const sync = new BackgroundSync(() => {
    const resolver = Promise.withResolvers<void>();
    resolvers.push(resolver);
    return resolver.promise;
  });
  assert(await sync.tryStart(), "started");
  assert(!(await sync.tryStart()), "refused while running");
  resolvers[0]!.reject(new Error("EIO (background)"));
  await new Promise((resolve) => setTimeout(resolve, 10));
  // The waited path (the -fi interval or the end of a full sync) settles before its sync.
  await assertRejects(() => sync.settle(), Error, "EIO");
});
