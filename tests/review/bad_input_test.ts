/**
 * Review of issue #3's bad-input requirement: for each parser, a truncated, a bit-flipped and an
 * oversized (length field over its limit, checksum resealed so the check is reached) input gives
 * a typed error (CorruptDataError, its ChecksumMismatchError, or LimitExceededError) naming the
 * file offset and the field, never an AssertionError, a TypeError or an allocation. Also checks
 * the vectors' own SHA1SUMS, so every file of ../shared/vectors is read by some test.
 */
import { createHash } from "node:crypto";
import { ChecksumMismatchError, CorruptDataError, LimitExceededError } from "../../lib/errors.ts";
import { checksum } from "../../lib/format/checksum/checksum.ts";
import {
  checkLogpackHeader,
  parseSuperSector,
  parseWlogHeader,
  WlogReader,
} from "../../lib/format/wlog/mod.ts";
import { openWdiff } from "../../lib/format/wdiff/mod.ts";
import { SerialReader, VU64 } from "../../lib/format/serializer/mod.ts";
import { parseDiffFileName } from "../../lib/format/meta/mod.ts";
import { CompressionType, decompressExact } from "../../lib/codec/mod.ts";
import { MemoryRandomAccess } from "../../lib/io/random_access.ts";
import { BufferedReader, MemorySource } from "../../lib/io/stream.ts";
import { assert, assertEquals, VECTORS_DIR } from "../../lib/testing/assert.ts";

type ErrorClass = new (...args: never[]) => Error;

/** Runs `action`, requires an error of `errorClass` whose message matches `pattern`. */
async function expectError(
  action: () => unknown,
  errorClass: ErrorClass,
  pattern: RegExp,
): Promise<Error> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  assert(caught instanceof errorClass, `expected ${errorClass.name}, got ${caught}`);
  assert(pattern.test(caught.message), `message ${JSON.stringify(caught.message)} !~ ${pattern}`);
  return caught;
}

/** Sets a u32 checksum field so that the WalB checksum of the block is 0 again. */
function reseal(bytes: Uint8Array, start: number, length: number, field: number, salt = 0): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  view.setUint32(start + field, 0, true);
  view.setUint32(start + field, checksum(bytes.subarray(start, start + length), salt), true);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
}

async function readWlog(bytes: Uint8Array): Promise<WlogReader> {
  const wlog = new WlogReader(new BufferedReader(new MemorySource(bytes)));
  await wlog.readHeader();
  for await (const _ of wlog.packs()) { /* read every payload */ }
  return wlog;
}

async function readWdiff(bytes: Uint8Array): Promise<void> {
  const { reader, close } = await openWdiff(new MemoryRandomAccess(bytes));
  try {
    for await (const _ of reader.records()) { /* decode and verify every record */ }
  } finally {
    close();
  }
}

const w1 = Deno.readFileSync(`${VECTORS_DIR}w1.wlog`);
const W1_SALT = 0x20ccc389;
const sorted = Deno.readFileSync(`${VECTORS_DIR}w2.sorted.wdiff`);
const indexed = Deno.readFileSync(`${VECTORS_DIR}w2.indexed.wdiff`);

Deno.test("wlog header: truncated and bit-flipped give errors at offset 0", async () => {
  let error = await expectError(
    () => readWlog(w1.subarray(0, 100)),
    CorruptDataError,
    /wlog header/,
  );
  assertEquals((error as CorruptDataError).offset, 0);
  const flipped = w1.slice();
  flipped[20]! ^= 1;
  error = await expectError(
    () => parseWlogHeader(flipped.subarray(0, 4096)),
    ChecksumMismatchError,
    /wlog header.*checksum/,
  );
  assertEquals((error as CorruptDataError).offset, 0);
});

Deno.test("logpack: payload truncated or flipped names the record and its offset", async () => {
  let error = await expectError(
    () => readWlog(w1.subarray(0, 4096 + 512 + 700)),
    CorruptDataError,
    /log record 0 data.*stream ends/,
  );
  assertEquals((error as CorruptDataError).offset, 4096 + 512);
  const flipped = w1.slice();
  flipped[4096 + 512 + 10]! ^= 1;
  error = await expectError(
    () => readWlog(flipped),
    ChecksumMismatchError,
    /log record 0 .*payload/,
  );
  assertEquals((error as CorruptDataError).offset, 4096 + 512);
});

Deno.test("logpack header: oversized n_records and io_size are rejected, not allocated", async () => {
  for (
    const [field, set] of [
      ["n_records", (v: DataView) => v.setUint16(4096 + 16, 0xffff, true)],
      ["io_size", (v: DataView) => v.setUint32(4096 + 32 + 16, 0xffffffff, true)],
    ] as const
  ) {
    const bytes = w1.slice();
    set(view(bytes));
    reseal(bytes, 4096, 512, 0, W1_SALT);
    const block = bytes.subarray(4096, 4096 + 512);
    const error = await expectError(
      () => checkLogpackHeader(block, { pbs: 512, salt: W1_SALT, offset: 4096 }),
      CorruptDataError,
      /logpack header at offset 4096/,
    );
    assertEquals((error as CorruptDataError).offset, 4096, field);
    // In a wlog stream an invalid header ends the log (as the original); the stop says why.
    const wlog = await readWlog(bytes);
    assertEquals(wlog.stop?.reason, "invalid", field);
    assertEquals(wlog.stop?.offset, 4096, field);
  }
});

Deno.test("super sector: a zeroed block gives an error at offset 4096 naming sector_type", async () => {
  await expectError(
    () => parseSuperSector(new Uint8Array(512)),
    CorruptDataError,
    /super sector at offset 4096: sector_type/,
  );
});

Deno.test("wdiff header: truncated and bit-flipped give errors at offset 0", async () => {
  await expectError(
    () => readWdiff(sorted.subarray(0, 20)),
    CorruptDataError,
    /wdiff header at offset 0/,
  );
  const flipped = sorted.slice();
  flipped[5]! ^= 1;
  await expectError(
    () => readWdiff(flipped),
    ChecksumMismatchError,
    /wdiff header at offset 0: checksum/,
  );
});

Deno.test("sorted pack: oversized n_records, io_blocks, data_size, total_size and truncation", async () => {
  const cases: [string, (v: DataView) => void, RegExp][] = [
    [
      "n_records",
      (v) => v.setUint16(32 + 4, 0xffff, true),
      /pack header at offset 32: n_records 65535/,
    ],
    [
      "io_blocks",
      (v) => v.setUint32(32 + 16 + 8, 0xffffffff, true),
      /record 0 at offset 48: io_blocks/,
    ],
    [
      "data_size",
      (v) => v.setUint32(32 + 16 + 20, 0xffffffff, true),
      /record 0 at offset 48: data_size/,
    ],
    [
      "total_size",
      (v) => v.setUint32(32 + 8, 0xffffffff, true),
      /pack header at offset 32: total_size/,
    ],
  ];
  for (const [, set, pattern] of cases) {
    const bytes = sorted.slice();
    set(view(bytes));
    reseal(bytes, 32, 4096, 0);
    await expectError(() => readWdiff(bytes), CorruptDataError, pattern);
  }
  await expectError(
    () => readWdiff(sorted.subarray(0, 32 + 4096 + 100)),
    CorruptDataError,
    /pack payload at offset 4128: stream ends/,
  );
});

Deno.test("indexed: oversized index_offset, data_size, io_blocks and truncation", async () => {
  const superOffset = indexed.length - 24;
  const indexOffset = Number(view(indexed).getBigUint64(superOffset, true));
  {
    const bytes = indexed.slice();
    view(bytes).setBigUint64(superOffset, 0xffffffffffffn, true);
    reseal(bytes, superOffset, 24, 20);
    await expectError(
      () => readWdiff(bytes),
      CorruptDataError,
      new RegExp(`index super block at offset ${superOffset}: index_offset`),
    );
  }
  for (const [field, at] of [["data_size", 24], ["io_blocks", 8]] as const) {
    const bytes = indexed.slice();
    view(bytes).setUint32(indexOffset + at, 0xffffffff, true);
    reseal(bytes, indexOffset, 48, 44);
    await expectError(
      () => readWdiff(bytes),
      CorruptDataError,
      new RegExp(
        `index record at offset ${indexOffset}: .*${
          field === "data_size" ? "data_size" : "4294967295"
        }`,
      ),
    );
  }
  await expectError(
    () => readWdiff(indexed.subarray(0, indexed.length - 10)),
    CorruptDataError,
    /index super block at offset/,
  );
});

Deno.test("serializer: oversized string length and truncated varint", async () => {
  await expectError(
    () => new SerialReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f)).string("name"),
    LimitExceededError,
    /name length/,
  );
  await expectError(
    () => new SerialReader(Uint8Array.of(0x83, 1, 2), { baseOffset: 100 }).varInt(VU64, "gid"),
    CorruptDataError,
    /gid at offset 100: input ends, 6 more bytes needed/,
  );
});

Deno.test("wdiff file name: a bad gid names its offset in the name", async () => {
  const error = await expectError(
    () => parseDiffFileName("20140102030405-M--x-10.wdiff"),
    CorruptDataError,
    /file name at offset 18: bad gid/,
  );
  assertEquals((error as CorruptDataError).offset, 18);
});

Deno.test("codecs: garbage and oversized output sizes are typed errors", async () => {
  for (
    const type of [
      CompressionType.snappy,
      CompressionType.gzip,
      CompressionType.lzma,
      CompressionType.lz4,
      CompressionType.zstd,
    ]
  ) {
    const error = await expectError(
      () => decompressExact(type, Uint8Array.of(0xff, 0xff, 0xff, 0x7f, 1, 2, 3), 100, 777),
      CorruptDataError,
      /compressed record at offset 777/,
    );
    assertEquals((error as CorruptDataError).offset, 777);
    await expectError(
      () => decompressExact(type, Uint8Array.of(1), 2 ** 31, 777),
      LimitExceededError,
      /decompressed record size/,
    );
  }
});

Deno.test("every vector file matches ../shared/vectors/SHA1SUMS", () => {
  const lines = Deno.readTextFileSync(`${VECTORS_DIR}SHA1SUMS`).split("\n").filter((l) => l !== "");
  const listed = new Set<string>();
  for (const line of lines) {
    const match = /^([0-9a-f]{40})\s+\*?(.+)$/.exec(line);
    assert(match !== null, `bad SHA1SUMS line ${line}`);
    const [, sum, name] = match;
    listed.add(name!);
    const actual = createHash("sha1").update(Deno.readFileSync(`${VECTORS_DIR}${name}`)).digest(
      "hex",
    );
    assertEquals(actual, sum, name);
  }
  for (const entry of Deno.readDirSync(VECTORS_DIR)) {
    if (entry.name === "SHA1SUMS" || entry.name === "README.md") continue;
    assert(listed.has(entry.name), `${entry.name} is not in SHA1SUMS`);
  }
});
