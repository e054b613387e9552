/**
 * Mutation testing of the wlog parsers: corrupt valid wlogs (flip bytes, truncate, overwrite,
 * corrupt and re-seal a logpack header) and parse them fully. Only CorruptDataError (and its
 * ChecksumMismatchError) or LimitExceededError may come out.
 *
 * @module
 */
import { CorruptDataError, LimitExceededError } from "../../lib/errors.ts";
import { checksum } from "../../lib/format/checksum/checksum.ts";
import {
  decodeWlogHeader,
  parseSuperSector,
  parseWlogHeader,
  WlogReader,
} from "../../lib/format/wlog/mod.ts";
import { Mt19937 } from "../../lib/format/wlog/mt19937.ts";
import { BufferedReader, MemorySource } from "../../lib/io/stream.ts";
import { randomSeed } from "../../lib/testing/random.ts";

/** The seed to use: SEED from the environment, else a random one. */
export const testSeed: () => number = randomSeed;

/** A valid wlog with the offsets of its pack headers. */
export interface Sample {
  name: string;
  bytes: Uint8Array;
  packOffsets: number[];
  salt: number;
  pbs: number;
}

/** Reads a valid wlog and records where its packs are. */
export async function sampleOf(name: string, bytes: Uint8Array): Promise<Sample> {
  const wlog = new WlogReader(new BufferedReader(new MemorySource(bytes)));
  const header = await wlog.readHeader();
  if (header === null) throw new Error(`${name}: no header`);
  const packOffsets: number[] = [];
  for await (const pack of wlog.packs()) packOffsets.push(pack.offset);
  return { name, bytes, packOffsets, salt: header.salt, pbs: header.pbs };
}

function below(random: Mt19937, n: number): number {
  return n <= 0 ? 0 : random.next32() % n;
}

/** One random corruption of a sample; returns the corrupted bytes and what was done. */
export function mutate(random: Mt19937, sample: Sample): { bytes: Uint8Array; what: string } {
  const bytes = sample.bytes.slice();
  const kind = below(random, 5);
  if (kind === 0) {
    const count = 1 + below(random, 8);
    for (let i = 0; i < count; i++) bytes[below(random, bytes.length)]! ^= 1 << below(random, 8);
    return { bytes, what: `flip ${count} bytes` };
  }
  if (kind === 1) {
    const length = below(random, bytes.length);
    return { bytes: bytes.subarray(0, length), what: `truncate to ${length}` };
  }
  if (kind === 2) {
    const at = below(random, bytes.length);
    const length = Math.min(bytes.length - at, 1 + below(random, 64));
    for (let i = 0; i < length; i++) bytes[at + i] = random.next32() & 0xff;
    return { bytes, what: `overwrite ${length} at ${at}` };
  }
  // Corrupt a logpack header (or the file header) and re-seal its checksum, so the
  // record rules and the size checks are reached.
  const packs = sample.packOffsets;
  if (kind === 3 && packs.length > 0) {
    const at = packs[below(random, packs.length)]!;
    const block = bytes.subarray(at, at + sample.pbs);
    const count = 1 + below(random, 4);
    for (let i = 0; i < count; i++) {
      const field = 4 + below(random, Math.min(sample.pbs - 4, 24 + 32 * 16));
      block[field] = below(random, 4) === 0 ? 0xff : random.next32() & 0xff;
    }
    new DataView(block.buffer, block.byteOffset, 4).setUint32(0, 0, true);
    new DataView(block.buffer, block.byteOffset, 4).setUint32(
      0,
      checksum(block, sample.salt),
      true,
    );
    return { bytes, what: `reseal pack header at ${at} after ${count} changes` };
  }
  const header = bytes.subarray(0, 4096);
  header[below(random, 56)] = random.next32() & 0xff;
  header.fill(0, 8, 12);
  new DataView(header.buffer, header.byteOffset, 4096).setUint32(8, checksum(header, 0), true);
  return { bytes, what: "reseal file header" };
}

/** Parses a whole (possibly corrupted) wlog stream with the reader's two modes. */
export async function parseAll(bytes: Uint8Array, verifyPayload: boolean): Promise<void> {
  const wlog = new WlogReader(new BufferedReader(new MemorySource(bytes), 4096), {
    verifyPayload,
  });
  let headers = 0;
  while ((await wlog.readHeader()) !== null) {
    headers++;
    if (headers > 1000) throw new Error("too many headers: reader does not progress");
    for await (const pack of wlog.packs()) {
      if (pack.ios.length !== pack.header.nRecords) throw new Error("ios do not match records");
    }
  }
  if (bytes.length >= 4096) decodeWlogHeader(bytes.subarray(0, 4096));
}

function isExpected(error: unknown): boolean {
  return error instanceof CorruptDataError || error instanceof LimitExceededError;
}

/**
 * Runs mutations until `deadline` (ms since epoch) or `maxCount` cases.
 *
 * @returns the number of cases run
 * @throws Error naming the seed, case and mutation when a parser throws anything else
 */
export async function runMutations(
  samples: Sample[],
  seed: number,
  limits: { deadline?: number; maxCount?: number },
): Promise<number> {
  const random = new Mt19937(seed);
  let count = 0;
  while (
    (limits.maxCount === undefined || count < limits.maxCount) &&
    (limits.deadline === undefined || Date.now() < limits.deadline)
  ) {
    const sample = samples[below(random, samples.length)]!;
    const { bytes, what } = mutate(random, sample);
    for (const verify of [true, false]) {
      try {
        await parseAll(bytes, verify);
      } catch (error) {
        if (!isExpected(error)) {
          throw new Error(
            `seed=${seed} case ${count} (${sample.name}: ${what}, verify ${verify}): ${error}`,
            { cause: error },
          );
        }
      }
    }
    for (const at of [0, 4096]) {
      try {
        if (at === 0) parseWlogHeader(bytes.subarray(0, 4096));
        else parseSuperSector(bytes.subarray(4096, 4096 + 512));
      } catch (error) {
        if (!isExpected(error)) {
          throw new Error(`seed=${seed} case ${count} (${what}): ${error}`, { cause: error });
        }
      }
    }
    count++;
  }
  return count;
}

/** The four shared vectors as samples. */
export async function vectorSamples(vectorsDir: string): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (const name of ["w1", "w2", "w3", "w4-pbs4k"]) {
    samples.push(await sampleOf(name, await Deno.readFile(`${vectorsDir}${name}.wlog`)));
  }
  return samples;
}
