/**
 * A restored image written in one sequential pass: the virtual full image of the base and the
 * merged diffs (wdiff-and-archive.md §6.6) streamed into a new, zero-filled image, instead of a
 * copy of the base with the diffs applied onto it. Every byte is read once and written once,
 * in large writes that bypass the page cache where the backend can (`O_DIRECT`): a copy plus
 * random writes through the page cache costs this machine's kernel more than the disk
 * (docs/performance.md). Holes of a sparse base stay holes, but for the records' data.
 *
 * The result equals {@link applyDiff} of the same records onto a copy of the base: discard
 * records are dropped first when the policy is `ignore` (the base shows through), and read as
 * zeroes otherwise (`zero` writes zeroes, `passdown` punches holes: both read as zeroes); a
 * record past the image end fails with the same {@link ApplyRangeError}.
 *
 * @module
 */
import type { DataExtent } from "../../archive-backend/mod.ts";
import type { BlockDevice } from "../../device/block/mod.ts";
import type { DiffRecord } from "../../format/wdiff/diff_record.ts";
import { recordEnd } from "../../format/wdiff/diff_record.ts";
import { ApplyRangeError, type DiscardPolicy } from "../../format/wdiff/apply.ts";
import { virtualFullChunks } from "../../format/wdiff/virtual_full.ts";
import { BackgroundSync } from "../../io/background_sync.ts";
import { readAhead } from "../../io/read_ahead.ts";
import { assert } from "../../errors.ts";
import { alignedBytes } from "../../../ffi/libc.ts";
import { LIMITS, RESTORE_LIMITS } from "../../limits.ts";

/** Options of {@link writeRestoredImage}. */
export interface RestoreImageOptions {
  /** The archive's `-discard` policy. */
  discardPolicy: DiscardPolicy;
  /** Data extents of the base, sorted (undefined: unknown, every byte is read). */
  baseExtents?: readonly DataExtent[] | undefined;
  /** Called before each chunk; throws to abort (a forced stop). */
  checkAbort(): void;
}

/**
 * Writes base + `records` into `target`, which must read as zeroes (a new image) and have the
 * base's size, then makes it durable (`flush`).
 *
 * @param base the base image (read sequentially, a few chunks ahead)
 * @param records merged records, increasing and non-overlapping (e.g. from `mergeDiffs`)
 * @param target the new image
 * @throws {ApplyRangeError} when a record ends past the image
 */
export async function writeRestoredImage(
  base: BlockDevice,
  records: AsyncIterable<DiffRecord>,
  target: BlockDevice,
  options: RestoreImageOptions,
): Promise<void> {
  const chunkBytes = RESTORE_LIMITS.chunkBytes;
  const extents = options.baseExtents;
  const hole = extents === undefined
    ? undefined
    : (offset: number, length: number) => isHole(extents, offset, length);
  const buffers = new ChunkBuffers(chunkBytes);
  const reads = readAhead(
    baseChunks(base, chunkBytes, buffers, hole ?? never),
    RESTORE_LIMITS.readsAheadMax,
  );
  // virtualFullChunks asks for the base chunks that are not holes, in order: the same ones.
  const readAt = async (offset: number, length: number) => {
    const next = await reads.next();
    assert(next.done !== true && next.value.offset === offset, "base chunks are read in order");
    const data = await next.value.data;
    assert(data.length === length, "base chunk length");
    return data;
  };
  const writes: Promise<void>[] = [];
  const writeback = new BackgroundSync(() => target.flush());
  let sinceWriteback = 0;
  try {
    const chunks = virtualFullChunks(
      {
        size: base.sizeBytes,
        readAt,
        ...(hole === undefined ? {} : { isZero: hole }),
      },
      checked(records, target.sizeBytes, options.discardPolicy),
      { chunkSize: chunkBytes },
    );
    for await (const chunk of chunks) {
      options.checkAbort();
      if (chunk.data === null) continue; // the target already reads zeroes there
      const data = chunk.data;
      // From page-aligned memory, an O_DIRECT target writes the chunk in place (no copy).
      const write = (target.writeGather?.(chunk.offset, [data]) ?? target.write(chunk.offset, data))
        .finally(() => buffers.release(data));
      write.catch(() => {}); // awaited in turn below or in the finally
      writes.push(write);
      if (writes.length >= RESTORE_LIMITS.writesInFlightMax) await writes.shift();
      sinceWriteback += chunk.length;
      if (sinceWriteback >= RESTORE_LIMITS.writebackIntervalBytes && await writeback.tryStart()) {
        sinceWriteback = 0;
      }
    }
    while (writes.length > 0) await writes.shift();
    await writeback.settle();
    await target.flush();
  } finally {
    await Promise.allSettled(writes);
    await writeback.settle().catch(() => {});
    await reads.return(undefined); // reads still in flight: the caller closing base waits
  }
}

/**
 * The records as applyDiff would execute them: discards dropped under `ignore`, a record past
 * the end an error.
 */
async function* checked(
  records: AsyncIterable<DiffRecord>,
  sizeBytes: number,
  policy: DiscardPolicy,
): AsyncGenerator<DiffRecord> {
  for await (const record of records) {
    if (recordEnd(record) * LIMITS.lbSize > sizeBytes) throw new ApplyRangeError(record, sizeBytes);
    if (record.kind === "discard" && policy === "ignore") continue;
    yield record;
  }
}

const never = () => false;

/** Whether `[offset, offset + length)` lies in one hole between (or after) `extents`. */
function isHole(extents: readonly DataExtent[], offset: number, length: number): boolean {
  // Binary search for the first extent ending after `offset`.
  let low = 0;
  let high = extents.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const extent = extents[middle]!;
    if (extent.offsetBytes + extent.lengthBytes <= offset) low = middle + 1;
    else high = middle;
  }
  const next = extents[low];
  return next === undefined || next.offsetBytes >= offset + length;
}

/**
 * Page-aligned chunk buffers, reused: base chunks are read into them, records overlaid, and
 * they are written from there. Without FFI they are ordinary arrays.
 */
class ChunkBuffers {
  #free: Uint8Array[] = [];
  /** Views handed out, by identity: only these return to the pool. */
  #lent = new Set<Uint8Array>();

  constructor(readonly chunkBytes: number) {}

  take(lengthBytes: number): Uint8Array {
    const whole = this.#free.pop() ?? alignedBytes(this.chunkBytes);
    const view = whole.length === lengthBytes ? whole : whole.subarray(0, lengthBytes);
    this.#lent.add(view);
    return view;
  }

  /** Returns `view` to the pool if it came from {@link take} (record data does not). */
  release(view: Uint8Array): void {
    if (!this.#lent.delete(view)) return;
    if (this.#free.length < RESTORE_LIMITS.readsAheadMax + RESTORE_LIMITS.writesInFlightMax + 2) {
      this.#free.push(
        view.length === this.chunkBytes
          ? view
          : new Uint8Array(view.buffer, view.byteOffset, this.chunkBytes),
      );
    }
  }
}

/**
 * The chunks of `device` at multiples of `chunkBytes` that `skip` does not name (holes), each
 * being read into a buffer of `buffers`: the read is started, not awaited, so that the chunks
 * a read-ahead pulls are read side by side.
 */
async function* baseChunks(
  device: BlockDevice,
  chunkBytes: number,
  buffers: ChunkBuffers,
  skip: (offset: number, length: number) => boolean,
): AsyncGenerator<{ offset: number; data: Promise<Uint8Array> }> {
  for (let offset = 0; offset < device.sizeBytes; offset += chunkBytes) {
    const length = Math.min(chunkBytes, device.sizeBytes - offset);
    if (skip(offset, length)) continue;
    const view = buffers.take(length);
    const data = device.readInto(offset, view).then(() => view, (error) => {
      buffers.release(view);
      throw error;
    });
    data.catch(() => {}); // reported when the chunk is asked for; dropped when it never is
    yield { offset, data };
  }
}
