/**
 * Mutation testing of the wdiff readers: corrupt valid wdiffs (flip bytes, truncate, corrupt
 * and re-seal a pack header, an index record or the super block, corrupt stored data and fix
 * its checksum so the decompressors see it) and read them fully through both the random-access
 * and the stream entry points. Only CorruptDataError (and ChecksumMismatchError) or
 * LimitExceededError may come out.
 *
 * @module
 */
import { CorruptDataError, LimitExceededError } from "../../lib/errors.ts";
import { checksum } from "../../lib/format/checksum/checksum.ts";
import {
  decodeIndexRecord,
  INDEX_RECORD_SIZE,
  INDEX_SUPER_SIZE,
  openWdiff,
  PACK_HEADER_SIZE,
  readWdiffStream,
} from "../../lib/format/wdiff/mod.ts";
import { MemoryRandomAccess } from "../../lib/io/random_access.ts";
import { BufferedReader, MemorySource } from "../../lib/io/stream.ts";
import { Prng, randomSeed } from "../../lib/testing/random.ts";

/** The seed to use: SEED from the environment, else a random one. */
export const testSeed: () => number = randomSeed;

function pick(random: () => number, n: number): number {
  return Math.floor(random() * n);
}

function seal(bytes: Uint8Array, start: number, length: number, fieldOffset: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  view.setUint32(start + fieldOffset, 0, true);
  view.setUint32(start + fieldOffset, checksum(bytes.subarray(start, start + length), 0), true);
}

/** One mutated copy of `original` (a valid wdiff) and a description of the mutation. */
export function mutate(original: Uint8Array, random: () => number): [Uint8Array, string] {
  const bytes = original.slice();
  const view = new DataView(bytes.buffer);
  const indexed = bytes[6] === 1;
  const choice = pick(random, 5);
  if (choice === 0) {
    const n = 1 + pick(random, 4);
    for (let i = 0; i < n; i++) bytes[pick(random, bytes.length)]! ^= 1 << pick(random, 8);
    return [bytes, `flip ${n}`];
  }
  if (choice === 1) {
    const length = pick(random, bytes.length);
    return [bytes.subarray(0, length), `truncate ${length}`];
  }
  if (!indexed) {
    // Corrupt the first pack header (a record field or the counts) and re-seal it.
    const at = 32 + pick(random, 16 + 32 * 8);
    bytes[at]! ^= 1 << pick(random, 8);
    if (choice === 4) view.setUint32(32 + 16 + 20, pick(random, 1 << 26), true);
    seal(bytes, 32, PACK_HEADER_SIZE, 0);
    return [bytes, `pack byte ${at} resealed`];
  }
  const indexOffset = Number(view.getBigUint64(bytes.length - INDEX_SUPER_SIZE, true));
  const count = (bytes.length - INDEX_SUPER_SIZE - indexOffset) / INDEX_RECORD_SIZE;
  if (choice === 2 || count === 0) {
    const at = bytes.length - INDEX_SUPER_SIZE + pick(random, 20);
    bytes[at]! ^= 1 << pick(random, 8);
    seal(bytes, bytes.length - INDEX_SUPER_SIZE, INDEX_SUPER_SIZE, 20);
    return [bytes, `super byte ${at} resealed`];
  }
  const recordAt = indexOffset + INDEX_RECORD_SIZE * pick(random, count);
  if (choice === 3) {
    const at = recordAt + pick(random, 44);
    bytes[at]! ^= 1 << pick(random, 8);
    seal(bytes, recordAt, INDEX_RECORD_SIZE, 44);
    return [bytes, `index byte ${at} resealed`];
  }
  // Corrupt the image of a record and fix io_checksum (the decompressor sees bad input).
  const record = decodeIndexRecord(bytes, recordAt);
  if (record.dataSize === 0) return [bytes, "unchanged"];
  bytes[record.dataOffset + pick(random, record.dataSize)]! ^= 1 << pick(random, 8);
  const sum = checksum(bytes.subarray(record.dataOffset, record.dataOffset + record.dataSize), 0);
  for (let at = indexOffset; at < bytes.length - INDEX_SUPER_SIZE; at += INDEX_RECORD_SIZE) {
    if (view.getBigUint64(at + 16, true) !== BigInt(record.dataOffset)) continue;
    view.setUint32(at + 40, sum, true);
    seal(bytes, at, INDEX_RECORD_SIZE, 44);
  }
  return [bytes, `image at ${record.dataOffset} corrupted, io_checksum fixed`];
}

/** Reads `bytes` fully both ways; returns "ok" or the allowed error class name. */
export async function readFully(bytes: Uint8Array): Promise<string> {
  let outcome = "ok";
  try {
    const { reader, close } = await openWdiff(new MemoryRandomAccess(bytes));
    try {
      for await (const record of reader.records()) {
        if (record.data !== null && record.data.length !== record.ioBlocks * 512) {
          throw new Error("record data of the wrong size");
        }
      }
    } finally {
      close();
    }
  } catch (error) {
    if (!(error instanceof CorruptDataError || error instanceof LimitExceededError)) throw error;
    outcome = error.name;
  }
  try {
    const reader = await readWdiffStream(new BufferedReader(new MemorySource(bytes)));
    for await (const _ of reader.records()) { /* decode only */ }
  } catch (error) {
    if (!(error instanceof CorruptDataError || error instanceof LimitExceededError)) throw error;
  }
  return outcome;
}

/**
 * Runs mutations of `samples` until `durationMs` passes (at least `minimumRuns`).
 *
 * @returns how many runs ended in each outcome
 * @throws Error naming the seed, sample and mutation when a forbidden error escapes
 */
export async function runMutations(
  samples: { name: string; bytes: Uint8Array }[],
  seed: number,
  durationMs: number,
  minimumRuns = 0,
): Promise<Map<string, number>> {
  const prng = new Prng(seed);
  const random = () => prng.next();
  const outcomes = new Map<string, number>();
  const start = Date.now();
  for (let run = 0; run < minimumRuns || Date.now() - start < durationMs; run++) {
    const sample = samples[pick(random, samples.length)]!;
    const [bytes, what] = mutate(sample.bytes, random);
    try {
      const outcome = await readFully(bytes);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    } catch (error) {
      throw new Error(`seed=${seed} run=${run} ${sample.name}: ${what}: ${String(error)}`, {
        cause: error,
      });
    }
  }
  return outcomes;
}
