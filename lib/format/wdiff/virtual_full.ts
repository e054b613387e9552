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
  /**
   * True when `[offset, offset + length)` is known to read as zeroes (a hole of a sparse
   * file), so it need not be read; false when unknown. Optional.
   */
  isZero?(offset: number, length: number): boolean;
}

/**
 * One chunk of {@link virtualFullChunks}: `data` (do not modify it: it may be a view of a
 * record's data), or null when all `length` bytes are zero.
 */
export interface VirtualFullChunk {
  offset: number;
  length: number;
  data: Uint8Array | null;
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
  // Pieces of one chunk are joined again, so callers see whole chunks as before.
  const chunkSize = Math.min(
    options.chunkSize ?? 128 * 1024,
    DIFF_ALGO_LIMITS.virtualFullChunkSizeMax,
  );
  let chunk: Uint8Array | null = null;
  for await (const piece of virtualFullChunks(base, records, options)) {
    const start = piece.offset % chunkSize;
    if (start === 0 && piece.length === Math.min(chunkSize, base.size - piece.offset)) {
      yield piece.data ?? new Uint8Array(piece.length);
      continue;
    }
    chunk ??= new Uint8Array(Math.min(chunkSize, base.size - (piece.offset - start)));
    if (piece.data !== null) chunk.set(piece.data, start);
    if (start + piece.length === chunk.length) {
      yield chunk;
      chunk = null;
    }
  }
}

/**
 * {@link virtualFullImage} with known zeroes left unmaterialised, so a writer can leave holes
 * in a sparse output instead of writing zeroes: where the base is a hole
 * ({@link VirtualFullBase.isZero}) a chunk is split into the records' normal data and zero
 * pieces (`data` null); elsewhere chunks are whole.
 *
 * @param base the base image
 * @param records merged records, increasing and non-overlapping
 * @param options chunk size
 * @returns pieces covering `[0, base.size)` in order, each at most `chunkSize` bytes
 */
export async function* virtualFullChunks(
  base: VirtualFullBase,
  records: AsyncIterable<DiffRecord>,
  options: VirtualFullOptions = {},
): AsyncGenerator<VirtualFullChunk> {
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
      const length = chunkEnd - position;
      const touched = pending !== null && pending.ioAddress * LIMITS.lbSize < chunkEnd;
      if (base.isZero?.(position, length) === true) {
        if (!touched) {
          yield { offset: position, length, data: null };
          continue;
        }
        // A hole under records: only their normal data is yielded, the gaps as zero chunks.
        let cursor = position;
        while (pending !== null && pending.ioAddress * LIMITS.lbSize < chunkEnd) {
          assert(pending.ioAddress >= previousEnd, "virtual full records must be sorted");
          const piece = normalPiece(pending, position, chunkEnd);
          if (piece !== null) {
            if (piece.offset > cursor) {
              yield { offset: cursor, length: piece.offset - cursor, data: null };
            }
            yield piece;
            cursor = piece.offset + piece.length;
          }
          if (recordEnd(pending) * LIMITS.lbSize > chunkEnd) break;
          previousEnd = recordEnd(pending);
          pending = await nextRecord(iterator);
        }
        if (cursor < chunkEnd) yield { offset: cursor, length: chunkEnd - cursor, data: null };
        continue;
      }
      const chunk = await base.readAt(position, length);
      while (pending !== null && pending.ioAddress * LIMITS.lbSize < chunkEnd) {
        assert(pending.ioAddress >= previousEnd, "virtual full records must be sorted");
        overlay(chunk, position, pending);
        if (recordEnd(pending) * LIMITS.lbSize > chunkEnd) break;
        previousEnd = recordEnd(pending);
        pending = await nextRecord(iterator);
      }
      yield { offset: position, length, data: chunk };
    }
  } finally {
    await iterator.return?.();
  }
}

async function nextRecord(iterator: AsyncIterator<DiffRecord>): Promise<DiffRecord | null> {
  const result = await iterator.next();
  return result.done === true ? null : result.value;
}

/** The normal data of `record` inside `[start, end)` (bytes), as a view; null for others. */
function normalPiece(record: DiffRecord, start: number, end: number): VirtualFullChunk | null {
  if (record.kind !== "normal") return null;
  assert(record.data !== null, "normal record without data");
  const recordStart = record.ioAddress * LIMITS.lbSize;
  const from = Math.max(recordStart, start);
  const to = Math.min(recordEnd(record) * LIMITS.lbSize, end);
  if (from >= to) return null;
  return {
    offset: from,
    length: to - from,
    data: record.data.subarray(from - recordStart, to - recordStart),
  };
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
