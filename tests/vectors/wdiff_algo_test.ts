/**
 * Diff algorithms and their tools against the reference vectors: wlog-to-wdiff byte for byte,
 * wdiff-merge byte for byte (none, snappy, lz4, -x 16K) or by records (other codecs), the
 * merge of indexed inputs by image, wdiff-redo images, virt-full-cat images, and the true
 * `-stat` figures.
 */
import { createHash } from "node:crypto";
import { assert, assertEquals, VECTORS_DIR } from "../../lib/testing/assert.ts";
import { MemoryRandomAccess } from "../../lib/io/random_access.ts";
import { MemorySink, MemorySource } from "../../lib/io/stream.ts";
import { type DiffRecord, openWdiff, SortedWdiffReader } from "../../lib/format/wdiff/mod.ts";
import type { Command } from "../../cmd/command.ts";
import { command as wlogToWdiff } from "../../cmd/wlog_to_wdiff.ts";
import { command as wdiffMerge } from "../../cmd/wdiff_merge.ts";
import { command as wdiffRedo } from "../../cmd/wdiff_redo.ts";
import { command as virtFullCat } from "../../cmd/virt_full_cat.ts";
import { LZMA_IMPLEMENTATION } from "../../lib/codec/lzma.ts";
import { GZIP_IMPLEMENTATION } from "../../lib/codec/gzip.ts";

const V = VECTORS_DIR;
const WLOGS = ["w1", "w2", "w3", "w4-pbs4k"];
const FINAL_IMAGE_SHA1 = "79f624c592643a93fec79e91f2a28127bcc41dd9";

interface RunResult {
  code: number;
  stdout: Uint8Array;
  stdoutText: string;
  stderr: string;
}

async function run(command: Command, args: string[], stdin = new Uint8Array()): Promise<RunResult> {
  const stdout = new MemorySink();
  const stderr = new MemorySink();
  const code = await command.run(args, { stdin: new MemorySource(stdin), stdout, stderr });
  return { code, stdout: stdout.bytes(), stdoutText: stdout.text(), stderr: stderr.text() };
}

function sha1(bytes: Uint8Array): string {
  return createHash("sha1").update(bytes).digest("hex");
}

function sameBytes(actual: Uint8Array, expected: Uint8Array, label: string): void {
  assertEquals(actual.length, expected.length, `${label}: length`);
  const index = actual.findIndex((byte, i) => byte !== expected[i]);
  assertEquals(index, -1, `${label}: first differing byte`);
}

/** Record listing (kind, range, stored codec and size, data checksum) of a sorted wdiff. */
async function sortedListing(bytes: Uint8Array): Promise<string[]> {
  const { reader } = await openWdiff(new MemoryRandomAccess(bytes));
  assert(reader instanceof SortedWdiffReader, "sorted wdiff expected");
  const lines: string[] = [];
  for await (const pack of reader.packs()) {
    for (const r of pack.header.records) lines.push(`${r.ioAddress} ${r.ioBlocks} ${r.flags}`);
  }
  return lines;
}

/** Decoded records of a wdiff, as "address blocks kind sha1(data)". */
async function decodedRecords(bytes: Uint8Array): Promise<string[]> {
  const { reader } = await openWdiff(new MemoryRandomAccess(bytes));
  const lines: string[] = [];
  for await (const r of reader.records()) {
    lines.push(`${r.ioAddress} ${r.ioBlocks} ${r.kind} ${r.data === null ? "-" : sha1(r.data)}`);
  }
  return lines;
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "walb-wdiff-algo-" });
}

for (const name of WLOGS) {
  for (const format of ["sorted", "indexed"]) {
    Deno.test(`wlog-to-wdiff ${format} ${name}.wlog equals ${name}.${format}.wdiff`, async () => {
      const args = ["-i", `${V}${name}.wlog`, ...(format === "indexed" ? ["-indexed"] : [])];
      const result = await run(wlogToWdiff, args);
      assertEquals(result.code, 0, result.stderr);
      sameBytes(result.stdout, await Deno.readFile(`${V}${name}.${format}.wdiff`), name);
      assert(result.stderr.includes(" INFO converted until lsid "), result.stderr);
    });
  }
}

Deno.test("wlog-to-wdiff -x 4K w1.wlog equals w1.x4k.sorted.wdiff (stdin to a file)", async () => {
  const dir = await tempDir();
  try {
    const result = await run(
      wlogToWdiff,
      ["-x", "4K", "-o", `${dir}/out.wdiff`],
      await Deno.readFile(`${V}w1.wlog`),
    );
    assertEquals(result.code, 0, result.stderr);
    sameBytes(
      await Deno.readFile(`${dir}/out.wdiff`),
      await Deno.readFile(`${V}w1.x4k.sorted.wdiff`),
      "x4k",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wlog-to-wdiff of concatenated wlogs checks lsid and uuid", async () => {
  const w1 = await Deno.readFile(`${V}w1.wlog`);
  const w2 = await Deno.readFile(`${V}w2.wlog`);
  const both = new Uint8Array(w1.length + w2.length);
  both.set(w1);
  both.set(w2, w1.length);
  const result = await run(wlogToWdiff, [], both);
  assertEquals(result.code, 1);
  assert(result.stderr.includes("ERROR wlog-to-wdiff:operator():uuid differ:"), result.stderr);
  const same = new Uint8Array(w1.length * 2);
  same.set(w1);
  same.set(w1, w1.length);
  const again = await run(wlogToWdiff, [], same);
  assertEquals(again.code, 1);
  assert(again.stderr.includes("ERROR wlog-to-wdiff:lsid mismatch."), again.stderr);
});

Deno.test("wlog-to-wdiff of an empty input writes valid empty wdiffs", async () => {
  const sorted = await run(wlogToWdiff, []);
  assertEquals(sorted.code, 0, sorted.stderr);
  assertEquals(sorted.stdout.length, 4128);
  const indexed = await run(wlogToWdiff, ["-indexed"]);
  assertEquals(indexed.code, 0, indexed.stderr);
  assertEquals((await decodedRecords(indexed.stdout)).length, 0);
});

const sortedInputs = WLOGS.map((name) => `${V}${name}.sorted.wdiff`);
const indexedInputs = WLOGS.map((name) => `${V}${name}.indexed.wdiff`);

for (const codec of ["none", "snappy", "lz4", "gzip", "lzma", "zstd"]) {
  Deno.test(`wdiff-merge -cmpr ${codec}:0:1 of the four sorted wdiffs matches merged.${codec}`, async () => {
    const result = await run(wdiffMerge, ["-stat", "-cmpr", `${codec}:0:1`, "-i", ...sortedInputs]);
    assertEquals(result.code, 0, result.stderr);
    const expected = await Deno.readFile(`${V}merged.${codec}.wdiff`);
    // With the system liblzma and zlib (the original's libraries) the output is byte-identical
    // too.
    const identical = ["none", "snappy", "lz4"].includes(codec) ||
      (codec === "lzma" && LZMA_IMPLEMENTATION === "liblzma") ||
      (codec === "gzip" && GZIP_IMPLEMENTATION === "libz");
    if (identical) {
      sameBytes(result.stdout, expected, codec);
    } else {
      // Other zlib/xz/zstd versions compress differently: compare records and data.
      assertEquals(await sortedListing(result.stdout), await sortedListing(expected));
      assertEquals(await decodedRecords(result.stdout), await decodedRecords(expected));
    }
    // -stat: mergeIn equals the original; mergeOut holds true figures (the original: zeros).
    const [mergeIn, mergeOut, memory] = result.stderr.split("\n");
    const original = (await Deno.readTextFile(`${V}merged.${codec}.merge-stat.txt`)).split("\n");
    assertEquals(mergeIn, original[0]);
    const dataSize = expected.length - 32 - 4096 * (1 + Math.ceil(44 / 127));
    if (identical) {
      assertEquals(
        mergeOut,
        `mergeOut wdiffNr 1  nrN 24 nrZ 3 nrD 17  lbN 822 lbZ 113 lbD 1547  dataSize ${dataSize}`,
      );
    }
    assert(/^mergeMemUsage \d+KiB$/.test(memory ?? ""), memory);
  });
}

Deno.test("wdiff-merge -cmpr numCpu > 1 compresses in workers with the same bytes", async () => {
  for (const codec of ["snappy", "gzip", "zstd"]) {
    const one = await run(wdiffMerge, ["-cmpr", `${codec}:0:1`, "-i", ...sortedInputs]);
    const three = await run(wdiffMerge, ["-cmpr", `${codec}:0:3`, "-i", ...sortedInputs]);
    assertEquals(three.code, 0, three.stderr);
    sameBytes(three.stdout, one.stdout, codec);
  }
});

Deno.test("wdiff-merge -x 16K equals merged.x16k.snappy.wdiff", async () => {
  const result = await run(wdiffMerge, ["-x", "16K", "-i", ...sortedInputs]);
  assertEquals(result.code, 0, result.stderr);
  sameBytes(result.stdout, await Deno.readFile(`${V}merged.x16k.snappy.wdiff`), "x16k");
});

Deno.test("wdiff-merge of the indexed inputs gives merged-from-indexed's records", async () => {
  const result = await run(wdiffMerge, ["-i", ...indexedInputs]);
  assertEquals(result.code, 0, result.stderr);
  const expected = await Deno.readFile(`${V}merged-from-indexed.snappy.wdiff`);
  assertEquals(await sortedListing(result.stdout), await sortedListing(expected));
  assertEquals(await decodedRecords(result.stdout), await decodedRecords(expected));
});

Deno.test("wdiff-merge rejects bad options with the original's messages", async () => {
  const none = await run(wdiffMerge, []);
  assertEquals(none.code, 1);
  assertEquals(none.stderr, "You must specify one or more input wdiff files.\n");
  assert(none.stdoutText.startsWith("Merge wdiff files.\nusage:wdiff-merge [opt]\n"));
  const small = await run(wdiffMerge, ["-x", "511", "-i", sortedInputs[0]!]);
  assertEquals(small.code, 1);
  assert(small.stderr.includes("ERROR wdiff-merge:Too small max IO size specified."));
  const type = await run(wdiffMerge, ["-cmpr", "foo:0:1", "-i", sortedInputs[0]!]);
  assert(type.stderr.includes("ERROR wdiff-merge:parseCompressionType:wrong type:foo"));
  const fields = await run(wdiffMerge, ["-cmpr", "snappy:0", "-i", sortedInputs[0]!]);
  assert(fields.stderr.includes("ERROR wdiff-merge:parseCompressOpt:parse error:snappy:0"));
  const xz = await run(wdiffMerge, ["-cmpr", "lzma:9:1", "-i", sortedInputs[0]!]);
  assertEquals(xz.code, 1);
});

/** Runs wdiff-redo of each file in turn on a copy of `image`; returns the image's sha1. */
async function redoImage(image: Uint8Array, files: string[], flags: string[]): Promise<string> {
  const dir = await tempDir();
  try {
    const target = `${dir}/image`;
    await Deno.writeFile(target, image);
    for (const file of files) {
      const result = await run(wdiffRedo, [...flags, "-i", file, target]);
      assertEquals(result.code, 0, result.stderr);
    }
    return sha1(await Deno.readFile(target));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("wdiff-redo -z gives every image of expected-image-sha1.txt", async () => {
  const base = await Deno.readFile(`${V}base-2M.img`);
  const zero = new Uint8Array(base.length);
  const table = (await Deno.readTextFile(`${V}expected-image-sha1.txt`)).split("\n");
  const expected = new Map<string, string>();
  for (const line of table) {
    const match = /^(.*\S)\s+([0-9a-f]{40})$/.exec(line);
    if (match !== null) expected.set(match[1]!, match[2]!);
  }
  const checks: [string, Uint8Array, string[], string[]][] = [];
  for (const format of ["sorted", "indexed"]) {
    for (let k = 0; k < WLOGS.length; k++) {
      const files = WLOGS.slice(0, k + 1).map((name) => `${V}${name}.${format}.wdiff`);
      checks.push([`base+wdiff-redo -z ${format} up to ${WLOGS[k]}`, base, files, ["-z"]]);
    }
  }
  checks.push(["base+wdiff-redo (no -z) sorted w1..w4", base, sortedInputs, []]);
  checks.push(["zero+wdiff-redo -z w1.x4k.sorted", zero, [`${V}w1.x4k.sorted.wdiff`], ["-z"]]);
  for (const codec of ["none", "snappy", "gzip", "lzma", "lz4", "zstd"]) {
    checks.push([`base+wdiff-redo -z merged.${codec}`, base, [`${V}merged.${codec}.wdiff`], [
      "-z",
    ]]);
  }
  for (const name of ["merged-from-indexed.snappy", "merged.x16k.snappy"]) {
    checks.push([`base+wdiff-redo -z ${name}`, base, [`${V}${name}.wdiff`], ["-z"]]);
  }
  for (const full of ["sorted", "indexed", "none", "gzip", "lzma", "lz4", "zstd"]) {
    checks.push([
      `zero+wdiff-redo base-2M.full.${full}`,
      zero,
      [`${V}base-2M.full.${full}.wdiff`],
      [],
    ]);
  }
  for (const [label, image, files, flags] of checks) {
    const want = expected.get(label);
    assert(want !== undefined, `no expected sha1 for ${label}`);
    assertEquals(await redoImage(image, files, flags), want, label);
  }
});

Deno.test("wdiff-redo prints Failed to redo for ignored discards and out-of-range IOs", async () => {
  const dir = await tempDir();
  try {
    const target = `${dir}/small`;
    await Deno.writeFile(target, new Uint8Array(1024 * 512)); // 1024 lb: w2 reaches past it
    const result = await run(wdiffRedo, ["-i", `${V}w2.sorted.wdiff`, target]);
    assertEquals(result.code, 0, result.stderr);
    const lines = result.stdoutText.split("\n");
    const failed = lines.filter((line) => line.startsWith("Failed to redo: "));
    assert(failed.some((line) => line.endsWith(" Discard")), result.stdoutText);
    const inputAt = lines.indexOf("Input statistics:");
    assertEquals(lines[inputAt + 1], "nIoTotal:     11");
    assertEquals(lines[inputAt + 2], "  nIoNormal:  5");
    assertEquals(lines[inputAt + 5], "nBlocks:      542");
    const outputAt = lines.indexOf("Output statistics:");
    const executed = Number(lines[outputAt + 1]!.split(/\s+/)[1]);
    assertEquals(executed + failed.length, 11);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (
  const [label, diffs] of [
    ["4 sorted", sortedInputs],
    ["4 indexed", indexedInputs],
    ["merged.zstd", [`${V}merged.zstd.wdiff`]],
  ] as const
) {
  Deno.test(`virt-full-cat base + ${label} gives the final image`, async () => {
    const result = await run(virtFullCat, ["-stat", "-i", `${V}base-2M.img`, "-d", ...diffs]);
    assertEquals(result.code, 0, result.stderr);
    assertEquals(result.stdout.length, 2 * 1024 * 1024);
    assertEquals(sha1(result.stdout), FINAL_IMAGE_SHA1);
    const mergeOut = result.stderr.split("\n")[1]!;
    assert(mergeOut.startsWith("mergeOut wdiffNr ---  nrN "), mergeOut);
    assert(mergeOut.endsWith("  dataSize ---"), mergeOut);
  });
}

Deno.test("virt-full-cat -stat counts merged records truly (w1+w2: 14 normal)", async () => {
  const result = await run(virtFullCat, [
    "-stat",
    "-b",
    "4096",
    "-i",
    `${V}base-2M.img`,
    "-d",
    sortedInputs[0]!,
    sortedInputs[1]!,
  ]);
  assertEquals(result.code, 0, result.stderr);
  assert(result.stderr.split("\n")[1]!.startsWith("mergeOut wdiffNr ---  nrN 14 "), result.stderr);
});

Deno.test("virt-full-cat without -d copies the base; -b below 512 is an error", async () => {
  const base = await Deno.readFile(`${V}base-2M.img`);
  const plain = await run(virtFullCat, ["-i", `${V}base-2M.img`, "-b", "1000"]);
  assertEquals(plain.code, 0, plain.stderr);
  sameBytes(plain.stdout, base, "base");
  const tiny = await run(virtFullCat, ["-i", `${V}base-2M.img`, "-b", "100"]);
  assertEquals(tiny.code, 1);
  assertEquals(tiny.stdout.length, 0);
  assert(tiny.stderr.includes("ERROR virt-full-cat:"), tiny.stderr);
});

/** The help without the `--progress` extension line (cmd/progress_test.ts checks it). */
const withoutProgress = (help: string) => help.replace(/^ {2}--progress.*\n/m, "");

Deno.test("tools print the original -h texts", async () => {
  const merge = await run(wdiffMerge, ["-h"]);
  assertEquals(
    withoutProgress(merge.stdoutText),
    "Merge wdiff files.\nusage:wdiff-merge [opt]\n  -h : put this message.\n" +
      "  -x SIZE: max IO size [byte]. 0 means no limitation.\n" +
      "  -i WDIFF_PATH_LIST: input wdiff paths.\n" +
      "  -o WDIFF_PATH: output wdiff path (default: stdout).\n  -stat : put statistics.\n" +
      "  -cmpr type:level:concurrency : compression for output (default: snappy:0:1)\n",
  );
  const redo = await run(wdiffRedo, ["-h"]);
  assertEquals(
    withoutProgress(redo.stdoutText),
    "wdiff-redo: redo wdiff file on a block device.\nusage:wdiff-redo [opt] DEVICE_PATH\n" +
      "  -h : show this message.\n" +
      "  -i PATH: input wdiff path. '-' for stdin. (default: '-')\n" +
      "  -d : issue discard IOs for discard diffs.\n" +
      "  -z : issue all-zero IOs for discard diffs.\n  -v : verbose messages to stderr.\n",
  );
  assert((await run(wlogToWdiff, ["-h"])).stdoutText.startsWith("Usage: wlog-to-wdiff < [wlog]"));
  const cat = await run(virtFullCat, ["-h"]);
  assert(withoutProgress(cat.stdoutText).endsWith("  -h:      Show this help message.\n\n"));
});

/** Keeps DiffRecord referenced for readers of this file. */
export type { DiffRecord };
