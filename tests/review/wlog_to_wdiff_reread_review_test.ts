/**
 * Review of beda02f (wlog-to-wdiff sorted, regular input file): the data of the output is read
 * a second time from the input file (`rereadFrom`), after the first pass verified each IO's
 * checksum. Nothing checks that the bytes read again are the bytes that were verified: data that
 * compresses gets a checksum computed over whatever was read again (silently wrong data, with a
 * valid checksum), and random data stored raw keeps the first pass's remembered checksum (a wdiff
 * that fails when it is read, while the conversion reported success). Pieces of a record cut by
 * a later overlapping IO never had a checksum to compare. The input can change between the two
 * reads: the command opens the path a second time (a rename in between gives another file), and
 * nothing stops a producer from rewriting the file. The conversion must either refuse
 * (CorruptDataError) or write the data the wlog held.
 */
import { CorruptDataError } from "../../lib/errors.ts";
import { MemoryRandomAccess } from "../../lib/io/random_access.ts";
import { BufferedReader, BufferedWriter, MemorySink, MemorySource } from "../../lib/io/stream.ts";
import { LogpackBuilder, WlogWriter } from "../../lib/format/wlog/mod.ts";
import { applyDiff } from "../../lib/format/wdiff/apply.ts";
import { openWdiff } from "../../lib/format/wdiff/open.ts";
import { convertWlogToSortedWdiff } from "../../lib/format/wdiff/wlog_to_wdiff.ts";
import { assert, assertEquals } from "../../lib/testing/assert.ts";

const PBS = 512;
const SALT = 0x1234567;

function filled(sizeLb: number, seed: number): Uint8Array {
  const data = new Uint8Array(sizeLb * 512);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff | 1;
  return data;
}

/** A wlog of: A = 16 lb at 0, B = 8 lb at 100, C = 4 lb at 4 (cuts A into two pieces). */
async function buildWlog(): Promise<{ bytes: Uint8Array; image: Uint8Array }> {
  const sink = new MemorySink();
  const writer = new WlogWriter(new BufferedWriter(sink));
  await writer.writeHeader({
    salt: SALT,
    pbs: PBS,
    uuid: new Uint8Array(16).fill(3),
    beginLsid: 0n,
    endLsid: 2n ** 64n - 1n,
  });
  const image = new Uint8Array(128 * 512);
  const ios: [number, Uint8Array][] = [[0, filled(16, 1)], [100, filled(8, 2)], [4, filled(4, 3)]];
  let lsid = 0n;
  for (const [offsetLb, data] of ios) {
    const builder = new LogpackBuilder({ pbs: PBS, salt: SALT, lsid });
    assert(builder.addNormal(offsetLb, data), "fits");
    const pack = builder.seal();
    await writer.writePack(pack);
    lsid = pack.nextLsid;
    image.set(data, offsetLb * 512);
  }
  await writer.close();
  return { bytes: sink.bytes(), image };
}

/** Position of `needle` in `haystack` (the IO data in the wlog stream). */
function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Converts `original` (the stream, read and verified) while the re-read sees `changed` (the
 * same file rewritten in between); returns the applied image, or null when the conversion
 * refused with CorruptDataError.
 */
async function convertWithChangedInput(
  original: Uint8Array,
  changed: Uint8Array,
): Promise<{ image: Uint8Array | null; readError: unknown }> {
  const sink = new MemorySink();
  const rereadFrom = {
    readInto: (offset: number, target: Uint8Array) => {
      target.set(changed.subarray(offset, offset + target.length));
    },
  };
  try {
    await convertWlogToSortedWdiff(
      new BufferedReader(new MemorySource(original)),
      new BufferedWriter(sink),
      { rereadFrom },
    );
  } catch (error) {
    if (error instanceof CorruptDataError) return { image: null, readError: undefined };
    throw error;
  }
  const image = new Uint8Array(128 * 512);
  try {
    const { reader } = await openWdiff(new MemoryRandomAccess(sink.bytes()));
    await applyDiff(reader.records(), {
      sizeBytes: image.length,
      write: (offset, data) => Promise.resolve(image.set(data, offset)),
      writeZeroes: (offset, length) => Promise.resolve(void image.fill(0, offset, offset + length)),
    }, { discardPolicy: "zero" });
  } catch (error) {
    return { image, readError: error };
  }
  return { image, readError: undefined };
}

Deno.test("review: wlog-to-wdiff re-read of a whole record that changed is refused, never written", async () => {
  const { bytes, image } = await buildWlog();
  const at = indexOf(bytes, filled(8, 2)); // B, a whole record
  assert(at > 0, "B found in the stream");
  const changed = bytes.slice();
  changed[at + 700] = changed[at + 700]! ^ 0x5a;
  const result = await convertWithChangedInput(bytes, changed);
  if (result.image === null) return; // refused: fine
  assertEquals(
    result.readError,
    undefined,
    "the conversion reported success but wrote a wdiff whose checksum does not match its data",
  );
  assertEquals(result.image, image, "the wdiff holds data the wlog did not");
});

Deno.test("review: wlog-to-wdiff re-read of a record piece that changed is not written as valid data", async () => {
  const { bytes, image } = await buildWlog();
  const at = indexOf(bytes, filled(16, 1)); // A, cut by C into [0, 4) and [8, 16)
  assert(at > 0, "A found in the stream");
  const changed = bytes.slice();
  changed[at + 10 * 512 + 3] = changed[at + 10 * 512 + 3]! ^ 0x5a; // inside the surviving piece [8, 16)
  const result = await convertWithChangedInput(bytes, changed);
  if (result.image === null) return; // refused: fine
  assertEquals(result.readError, undefined, "the written wdiff must be readable");
  assertEquals(
    result.image,
    image,
    "the wdiff holds re-read data that was never verified, with a checksum that matches it",
  );
});
