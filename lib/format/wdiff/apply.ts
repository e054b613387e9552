/**
 * Applying diff records to a block image (wdiff-and-archive.md §6.5): normal records write
 * their data, all-zero records write zeros, discard records follow a policy (ignore, zero,
 * pass down as a discard). Out-of-range records are an error (archive apply) or skipped and
 * reported (`wdiff-redo`'s "Failed to redo").
 *
 * @module
 */
import { assert } from "../../errors.ts";
import { DIFF_ALGO_LIMITS, LIMITS } from "../../limits.ts";
import { type DiffRecord, recordEnd } from "./diff_record.ts";
import { countRecord, type DiffStatistics } from "./stats.ts";

/**
 * What records are applied to: a subset of `BlockDevice` (lib/device/block), so any device
 * fits, and tests can pass a plain object over a byte array.
 */
export interface ApplyTarget {
  /** Size in bytes. */
  readonly sizeBytes: number;
  /** Writes all of `data` at `offsetBytes`. */
  write(offsetBytes: number, data: Uint8Array): Promise<void>;
  /** Makes the range read as zeroes. */
  writeZeroes(offsetBytes: number, lengthBytes: number): Promise<void>;
  /** Discards the range (needed only for the `passdown` policy). */
  discard?(offsetBytes: number, lengthBytes: number): Promise<void>;
  /** Makes completed writes durable (used with `flushIntervalBytes`). */
  flush?(): Promise<void>;
}

/** What to do with discard records: nothing, write zeros, or issue a discard. */
export type DiscardPolicy = "ignore" | "zero" | "passdown";

/** Why a record was not executed. */
export type SkipReason = "outOfRange" | "discardIgnored";

/** A record extends past the end of the target. */
export class ApplyRangeError extends RangeError {
  constructor(readonly record: DiffRecord, readonly targetSizeBytes: number) {
    super(
      `Cannot apply diff record ${record.ioAddress}+${record.ioBlocks} (${record.kind}): ` +
        `out of range, the target has ${targetSizeBytes} bytes`,
    );
    this.name = "ApplyRangeError";
  }
}

/** Options of {@link applyDiff}. */
export interface ApplyOptions {
  /** Discard records: `ignore` (default), `zero` or `passdown` (needs `target.discard`). */
  discardPolicy?: DiscardPolicy;
  /** Records past the target end: `error` (default, {@link ApplyRangeError}) or `skip`. */
  outOfRange?: "error" | "skip";
  /** Told about every record not executed (out of range, or a discard under `ignore`). */
  onSkipped?: (record: DiffRecord, reason: SkipReason) => void;
  /** Counts every record read (counts and lb). */
  inputStats?: DiffStatistics;
  /** Counts every record executed (counts and lb). */
  outputStats?: DiffStatistics;
  /** Calls `target.flush()` after each such number of bytes written (and at the end). */
  flushIntervalBytes?: number;
}

/**
 * Applies records, in the order given, to `target`.
 *
 * @param records the records (any order; a merged stream for archive apply)
 * @param target the image
 * @param options discard policy, out-of-range handling, statistics
 * @returns the number of bytes written, zeroed or discarded
 * @throws {ApplyRangeError} when a record passes the target end and `outOfRange` is `error`
 * @example
 * ```ts
 * import { applyDiff } from "./apply.ts";
 * const image = new Uint8Array(4096).fill(1);
 * const target = {
 *   sizeBytes: image.length,
 *   write: (offset: number, data: Uint8Array) => Promise.resolve(image.set(data, offset)),
 *   writeZeroes: (offset: number, length: number) =>
 *     Promise.resolve(void image.fill(0, offset, offset + length)),
 * };
 * async function* records() {
 *   yield { ioAddress: 1, ioBlocks: 2, kind: "allZero" as const, data: null };
 * }
 * await applyDiff(records(), target);
 * if (image[512] !== 0 || image[0] !== 1 || image[1536] !== 1) throw new Error("wrong");
 * ```
 */
export async function applyDiff(
  records: AsyncIterable<DiffRecord> | Iterable<DiffRecord>,
  target: ApplyTarget,
  options: ApplyOptions = {},
): Promise<number> {
  const policy = options.discardPolicy ?? "ignore";
  assert(policy !== "passdown" || target.discard !== undefined, "passdown needs target.discard");
  const flushInterval = options.flushIntervalBytes ?? 0;
  let total = 0;
  let sinceFlush = 0;
  for await (const record of records) {
    if (options.inputStats !== undefined) {
      countRecord(options.inputStats, record.kind, record.ioBlocks);
    }
    if (recordEnd(record) * LIMITS.lbSize > target.sizeBytes) {
      if (options.outOfRange !== "skip") throw new ApplyRangeError(record, target.sizeBytes);
      options.onSkipped?.(record, "outOfRange");
      continue;
    }
    if (record.kind === "discard" && policy === "ignore") {
      options.onSkipped?.(record, "discardIgnored");
      continue;
    }
    const bytes = await applyRecord(record, target, policy);
    if (options.outputStats !== undefined) {
      countRecord(options.outputStats, record.kind, record.ioBlocks);
    }
    total += bytes;
    sinceFlush += bytes;
    if (flushInterval > 0 && sinceFlush >= flushInterval && target.flush !== undefined) {
      await target.flush();
      sinceFlush = 0;
    }
  }
  if (flushInterval > 0 && sinceFlush > 0 && target.flush !== undefined) await target.flush();
  return total;
}

/** Executes one in-range record; returns its byte length. */
async function applyRecord(
  record: DiffRecord,
  target: ApplyTarget,
  policy: DiscardPolicy,
): Promise<number> {
  const offset = record.ioAddress * LIMITS.lbSize;
  const length = record.ioBlocks * LIMITS.lbSize;
  if (record.kind === "normal") {
    assert(record.data !== null && record.data.length === length, "normal record data size");
    await target.write(offset, record.data);
  } else if (record.kind === "discard" && policy === "passdown") {
    await inPieces(offset, length, (at, size) => target.discard!(at, size));
  } else {
    await inPieces(offset, length, (at, size) => target.writeZeroes(at, size));
  }
  return length;
}

/** Runs `action` over the range in pieces of at most `DIFF_ALGO_LIMITS.applyIoSizeMax` bytes. */
async function inPieces(
  offset: number,
  length: number,
  action: (offset: number, length: number) => Promise<void>,
): Promise<void> {
  const end = offset + length;
  for (let at = offset; at < end; at += DIFF_ALGO_LIMITS.applyIoSizeMax) {
    await action(at, Math.min(DIFF_ALGO_LIMITS.applyIoSizeMax, end - at));
  }
}
