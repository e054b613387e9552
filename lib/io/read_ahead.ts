/**
 * Bounded read-ahead over an async iterable: the source runs up to `countMax` items ahead of
 * the consumer, so producing item N+1 (a device read, a socket read) overlaps with consuming
 * item N. Items keep their order; memory is bounded by `countMax` items.
 *
 * @module
 */
import { assert } from "../errors.ts";

/**
 * Yields the items of `source` in order while up to `countMax` further items are produced.
 *
 * @param source the producer; its `next()` calls are queued (async generators run them in turn)
 * @param countMax items produced ahead of the consumer (≥ 1)
 * @returns the same items, in the same order; the first error of the source is thrown in turn
 * @example
 * ```ts
 * import { readAhead } from "./read_ahead.ts";
 * async function* numbers() { yield 1; yield 2; }
 * const seen: number[] = [];
 * for await (const n of readAhead(numbers(), 2)) seen.push(n);
 * if (seen.join() !== "1,2") throw new Error("order");
 * ```
 */
export async function* readAhead<T>(
  source: AsyncIterable<T>,
  countMax: number,
): AsyncGenerator<T> {
  assert(countMax >= 1, "read-ahead of at least one item");
  const iterator = source[Symbol.asyncIterator]();
  const queue: Promise<IteratorResult<T>>[] = [];
  const request = () => {
    const next = iterator.next();
    next.catch(() => {}); // awaited in turn below; never reported as unhandled meanwhile
    queue.push(next);
  };
  let done = false;
  try {
    request();
    while (!done) {
      while (queue.length <= countMax) request();
      const result = await queue.shift()!;
      if (result.done) {
        done = true;
        break;
      }
      yield result.value;
    }
  } finally {
    await Promise.allSettled(queue);
    if (!done) await iterator.return?.(undefined);
  }
}
