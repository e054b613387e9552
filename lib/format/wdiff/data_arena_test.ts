import { assert, assertEquals, assertThrows } from "../../testing/assert.ts";
import { AssertionError } from "../../errors.ts";
import { DataArena } from "./data_arena.ts";

Deno.test("DataArena.allocate() hands out disjoint views and reuses a chunk once it is back", () => {
  const arena = new DataArena({ chunkSize: 1000 });
  const views = [arena.allocate(400), arena.allocate(400), arena.allocate(400)];
  // Two fit in the first chunk, the third starts a second one.
  assert(views[0]!.buffer === views[1]!.buffer, "first chunk shared");
  assert(views[2]!.buffer !== views[0]!.buffer, "second chunk");
  assertEquals(views[1]!.byteOffset, 400);
  views.forEach((view, i) => view.fill(i + 1));
  assertEquals([views[0]![399], views[1]![0], views[2]![0]], [1, 2, 3]);
  arena.release(views[0]!);
  const early = arena.allocate(400); // the first chunk still has a live view: a new chunk
  assert(early.buffer !== views[0]!.buffer, "reused a chunk with a live view");
  arena.release(views[1]!);
  arena.allocate(400);
  const reused = arena.allocate(400);
  assert(reused.buffer === views[0]!.buffer, "first chunk not reused");
});

Deno.test("DataArena gives sizes over a chunk arrays of their own and ignores their release", () => {
  const arena = new DataArena({ chunkSize: 100 });
  const big = arena.allocate(101);
  assertEquals(big.length, 101);
  assertEquals(big.buffer.byteLength, 101);
  arena.release(big);
});

Deno.test("DataArena.release() of a view twice is a bug", () => {
  const arena = new DataArena({ chunkSize: 100 });
  const view = arena.allocate(10);
  arena.allocate(95); // the first chunk is no longer current
  arena.release(view);
  assertThrows(() => arena.release(view), AssertionError);
});
