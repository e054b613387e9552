/**
 * The virtual full image (wdiff-and-archive.md §6.6): a base image overlaid with a merged
 * diff, read sequentially. Normal records give their data; all-zero and discard records read
 * as zeros (whatever the discard policy). The output has exactly the base's length; records
 * past its end are clipped.
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { DIFF_ALGO_LIMITS, LIMITS } from "../../limits.ts";
import { type DiffRecord, recordEnd } from "./diff_record.ts";

/** The base image: a positional source of known size (e.g. `RandomAccessSource`). */
export interface VirtualFullBase {
  /** Size in bytes. */
  readonly size: number;
  /** Reads exactly `length` bytes at `offset` into a new array. */
  readAt(offset: number, length: number): Promise<Uint8Array>;
}

/** Options of {@link virtualFullImage}. */
export interface VirtualFullOptions {
  /** Bytes per yielded chunk (default 128 KiB; at least 1; capped at 64 MiB). */
  chunkSize?: number;
}

/**
 * Yields the virtual full image in chunks of `chunkSize` bytes (the last one shorter).
 *
 * @param base the base image
 * @param records merged records, increasing and non-overlapping (e.g. from `mergeDiffs`)
 * @param options chunk size
 * @returns chunks covering `[0, base.size)` in order; each is a new array
 * @example
 * ```ts
 * import { MemoryRandomAccess } from "../../io/random_access.ts";
 * import { virtualFullImage } from "./virtual_full.ts";
 * const base = new MemoryRandomAccess(new Uint8Array(2048).fill(7));
 * async function* records() {
 *   yield { ioAddress: 1, ioBlocks: 1, kind: "discard" as const, data: null };
 * }
 * const chunks = [];
 * for await (const chunk of virtualFullImage(base, records(), { chunkSize: 1024 })) {
 *   chunks.push(chunk);
 * }
 * if (chunks.length !== 2 || chunks[0]![600] !== 0 || chunks[1]![0] !== 7) throw new Error();
 * ```
 */
export async function* virtualFullImage(
  base: VirtualFullBase,
  records: AsyncIterable<DiffRecord>,
  options: VirtualFullOptions = {},
): AsyncGenerator<Uint8Array> {
  const chunkSize = Math.min(
    options.chunkSize ?? 128 * 1024,
    DIFF_ALGO_LIMITS.virtualFullChunkSizeMax,
  );
  assert(Number.isSafeInteger(chunkSize) && chunkSize > 0, "chunk size must be positive");
  const iterator = records[Symbol.asyncIterator]();
  try {
    let pending = await nextRecord(iterator);
    let previousEnd = 0;
    for (let position = 0; position < base.size; position += chunkSize) {
      const chunkEnd = Math.min(position + chunkSize, base.size);
      const chunk = await base.readAt(position, chunkEnd - position);
      while (pending !== null && pending.ioAddress * LIMITS.lbSize < chunkEnd) {
        assert(pending.ioAddress >= previousEnd, "virtual full records must be sorted");
        overlay(chunk, position, pending);
        if (recordEnd(pending) * LIMITS.lbSize > chunkEnd) break;
        previousEnd = recordEnd(pending);
        pending = await nextRecord(iterator);
      }
      yield chunk;
    }
  } finally {
    await iterator.return?.();
  }
}

async function nextRecord(iterator: AsyncIterator<DiffRecord>): Promise<DiffRecord | null> {
  const result = await iterator.next();
  return result.done === true ? null : result.value;
}

/** Writes the part of `record` inside the chunk starting at byte `position`. */
function overlay(chunk: Uint8Array, position: number, record: DiffRecord): void {
  const recordStart = record.ioAddress * LIMITS.lbSize;
  const from = Math.max(recordStart, position);
  const to = Math.min(recordEnd(record) * LIMITS.lbSize, position + chunk.length);
  if (from >= to) return;
  if (record.kind === "normal") {
    assert(record.data !== null, "normal record without data");
    chunk.set(record.data.subarray(from - recordStart, to - recordStart), from - position);
  } else {
    chunk.fill(0, from - position, to - position);
  }
}
