/**
 * Opening a wdiff of either format: reads the header and returns the matching reader. Sorted
 * wdiffs may also come from a non-seekable stream; indexed ones need random access.
 *
 * @module
 */
import { CorruptDataError } from "../../errors.ts";
import {
  FileRandomAccess,
  RandomAccessByteSource,
  type RandomAccessSource,
} from "../../io/random_access.ts";
import { BufferedReader } from "../../io/stream.ts";
import { parseWdiffHeader, WDIFF_HEADER_SIZE, WdiffType } from "./file_header.ts";
import { IndexedWdiffReader, type IndexedWdiffReaderOptions } from "./indexed_reader.ts";
import { SortedWdiffReader } from "./sorted_reader.ts";

/** A reader of either format; both yield records in increasing non-overlapping order. */
export type WdiffReader = SortedWdiffReader | IndexedWdiffReader;

/** An opened wdiff: its reader and a close() that releases what openWdiff opened. */
export interface OpenedWdiff {
  reader: WdiffReader;
  close(): void;
}

/**
 * Opens a wdiff file (path) or random-access source and dispatches on the header type.
 *
 * @param source a file path or a positional source (closed by `close()` either way)
 * @param options indexed reader options
 * @returns the reader; call `close()` when done
 * @throws {ChecksumMismatchError} on a bad header checksum
 * @throws {CorruptDataError} on a bad header
 *
 * @example
 * ```ts
 * import { MemoryRandomAccess } from "../../io/random_access.ts";
 * import { buildWdiffHeader, WdiffType } from "./file_header.ts";
 * import { buildEndPack } from "./pack_header.ts";
 * import { openWdiff } from "./open.ts";
 * const bytes = new Uint8Array(32 + 4096);
 * bytes.set(buildWdiffHeader(WdiffType.sorted, new Uint8Array(16)));
 * bytes.set(buildEndPack(), 32);
 * const opened = await openWdiff(new MemoryRandomAccess(bytes));
 * if (opened.reader.format !== "sorted") throw new Error("wrong");
 * opened.close();
 * ```
 */
export async function openWdiff(
  source: string | RandomAccessSource,
  options: IndexedWdiffReaderOptions = {},
): Promise<OpenedWdiff> {
  const random = typeof source === "string" ? await FileRandomAccess.open(source) : source;
  const close = () => random.close?.();
  try {
    if (random.size < WDIFF_HEADER_SIZE) {
      throw new CorruptDataError("wdiff header", 0, `file is only ${random.size} bytes`);
    }
    const header = parseWdiffHeader(await random.readAt(0, WDIFF_HEADER_SIZE));
    if (header.type === WdiffType.indexed) {
      return { reader: await IndexedWdiffReader.open(random, options), close };
    }
    const stream = new BufferedReader(new RandomAccessByteSource(random, WDIFF_HEADER_SIZE));
    stream.position = WDIFF_HEADER_SIZE;
    return { reader: new SortedWdiffReader(stream, header), close };
  } catch (error) {
    close();
    throw error;
  }
}

/**
 * Reads a sorted wdiff from a sequential stream (stdin, a pipe, a socket).
 *
 * @param reader the stream, at the start of the file
 * @throws {CorruptDataError} on a bad header, or when the stream holds an indexed wdiff
 *   (that format needs a seekable file)
 */
export async function readWdiffStream(reader: BufferedReader): Promise<SortedWdiffReader> {
  const bytes = await reader.readRequired(WDIFF_HEADER_SIZE, "wdiff header");
  const header = parseWdiffHeader(bytes);
  if (header.type === WdiffType.indexed) {
    throw new CorruptDataError(
      "wdiff header",
      0,
      "an indexed wdiff needs a seekable file; a stream (pipe) is not supported",
    );
  }
  return new SortedWdiffReader(reader, header);
}
