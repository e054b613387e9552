/** Negative fixtures: valid vectors with one known corruption, error class and offset. */
import { assertEquals, assertRejects, VECTORS_DIR } from "../../testing/assert.ts";
import { ChecksumMismatchError, CorruptDataError } from "../../errors.ts";
import { MemoryRandomAccess } from "../../io/random_access.ts";
import { BufferedReader, MemorySource } from "../../io/stream.ts";
import { openWdiff, readWdiffStream } from "./open.ts";

async function drain(bytes: Uint8Array): Promise<void> {
  const { reader, close } = await openWdiff(new MemoryRandomAccess(bytes));
  try {
    for await (const _ of reader.records()) { /* decode */ }
  } finally {
    close();
  }
}

const sorted = Deno.readFileSync(`${VECTORS_DIR}w2.sorted.wdiff`);
const indexed = Deno.readFileSync(`${VECTORS_DIR}w2.indexed.wdiff`);

Deno.test("sorted reader reports a bad pack checksum at the pack offset", async () => {
  const bytes = sorted.slice();
  bytes[32 + 100]! ^= 1;
  const error = await assertRejects(() => drain(bytes), ChecksumMismatchError);
  assertEquals(error.offset, 32);
});

Deno.test("sorted reader reports a bad data checksum at the data offset", async () => {
  const bytes = sorted.slice();
  bytes[32 + 4096 + 700]! ^= 1; // second normal record, stored at payload offset 680
  const error = await assertRejects(() => drain(bytes), ChecksumMismatchError);
  assertEquals(error.offset, 32 + 4096 + 680);
});

Deno.test("sorted reader tolerates a missing end pack, not a cut pack", async () => {
  await drain(sorted.subarray(0, sorted.length - 4096));
  const error = await assertRejects(
    () => drain(sorted.subarray(0, sorted.length - 100)),
    CorruptDataError,
  );
  assertEquals(error.offset, sorted.length - 4096);
});

Deno.test("indexed reader reports a bad super block and refuses a stream", async () => {
  const bytes = indexed.slice();
  bytes[bytes.length - 20]! ^= 1;
  const error = await assertRejects(() => drain(bytes), ChecksumMismatchError);
  assertEquals(error.offset, bytes.length - 24);
  await assertRejects(
    () => readWdiffStream(new BufferedReader(new MemorySource(indexed))),
    CorruptDataError,
    "seekable",
  );
});

Deno.test("indexed reader reports a bad image checksum at the image offset", async () => {
  const bytes = indexed.slice();
  bytes[40]! ^= 1; // inside the first image (data_offset 32)
  const error = await assertRejects(() => drain(bytes), ChecksumMismatchError);
  assertEquals(error.offset, 32);
});
