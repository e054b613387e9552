/**
 * `wdiff-full`: turns a raw image into a full wdiff (offline-tools.md §5.4): consecutive
 * normal records of `-ios` bytes (the last shorter, a trailing partial block dropped), snappy
 * only if smaller, zero UUID, sorted (byte-identical to the original) or `-indexed` (with clean
 * index records; see docs/compatibility.md).
 *
 * @module
 */
import { LimitExceededError, UsageError } from "../lib/errors.ts";
import { LIMITS } from "../lib/limits.ts";
import { BufferedWriter, type ByteSink, type ByteSource } from "../lib/io/stream.ts";
import { IndexedWdiffWriter, SortedWdiffWriter } from "../lib/format/wdiff/mod.ts";
import { type Command, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";
import {
  addProgressOption,
  countingSource,
  inputSizeOf,
  PROGRESS_HELP,
  PROGRESS_OPTION,
  startProgress,
  usageWithProgress,
} from "./progress.ts";

const USAGE = "Usage: wdiff-full -i [full image] -o [wdiff]\n" +
  "  -h : show this message\n" +
  "  -i : input full image (default: stdin)\n" +
  "  -o : output diff file (default: stdout)\n" +
  "  -ios : IO size in bytes (default 64K)\n" +
  "  -indexed : use indexed format instead of sorted format.\n";

function parser(): OptionParser {
  const p = new OptionParser("wdiff-full", {
    usage: usageWithProgress(USAGE, `-${PROGRESS_OPTION} ${PROGRESS_HELP}`),
  });
  p.option("i", "string", ": input full image (default: stdin)", { default: "-" });
  p.option("o", "string", ": output diff file (default: stdout)", { default: "-" });
  p.option("ios", "u64", ": IO size in bytes (default 64K)", { default: "64K" });
  p.flag("indexed", ": use indexed format instead of sorted format.");
  return addProgressOption(p);
}

/**
 * Reads up to `buffer.length` bytes, stopping early only at end of input.
 *
 * @returns the number of bytes read (less than the buffer only at the end)
 */
async function readFull(source: ByteSource, buffer: Uint8Array): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const n = await source.read(buffer.subarray(filled));
    if (n === null || n === 0) break;
    filled += n;
  }
  return filled;
}

/** Options of {@link writeFullWdiff}. */
export interface FullWdiffOptions {
  /** Record size [bytes], a non-zero multiple of 512. */
  ioSize: number;
  indexed: boolean;
}

/**
 * Writes the image read from `source` as a full wdiff to `sink`.
 *
 * @returns the number of records written
 */
export async function writeFullWdiff(
  source: ByteSource,
  sink: ByteSink,
  options: FullWdiffOptions,
): Promise<number> {
  const output = new BufferedWriter(sink);
  const writer = options.indexed ? new IndexedWdiffWriter(output) : new SortedWdiffWriter(output);
  let address = 0;
  let count = 0;
  for (;;) {
    // A fresh buffer per record: writers may keep the data until their pack is written.
    const buffer = new Uint8Array(options.ioSize);
    const size = await readFull(source, buffer);
    const blocks = Math.floor(size / LIMITS.lbSize);
    if (blocks > 0) {
      const data = buffer.subarray(0, blocks * LIMITS.lbSize);
      await writer.add({ ioAddress: address, ioBlocks: blocks, kind: "normal", data });
      address += blocks;
      count++;
    }
    if (size < options.ioSize) break;
  }
  await writer.close();
  return count;
}

async function openOutput(path: string, stdout: ByteSink): Promise<[ByteSink, () => void]> {
  if (path === "-") return [stdout, () => {}];
  const file = await Deno.open(path, { write: true, create: true, truncate: true, mode: 0o644 });
  return [file, () => file.close()];
}

async function openInput(path: string, stdin: ByteSource): Promise<[ByteSource, () => void]> {
  if (path === "-") return [stdin, () => {}];
  const file = await Deno.open(path, { read: true });
  return [file, () => file.close()];
}

/** The wdiff-full subcommand. */
export const command: Command = {
  name: "wdiff-full",
  summary: "convert a raw image into a full wdiff",
  run: (args, io) =>
    runTool("wdiff-full", io, async ({ log }) => {
      const opts = parser().parse(args);
      const ioSize = opts.big("ios");
      if (ioSize === 0n || ioSize % 512n !== 0n) {
        log.raw("ioSize must be multiples of logical block size 512.\n");
        return 1;
      }
      const ioSizeMax = LIMITS.wdiffNormalIoLbMax * LIMITS.lbSize;
      if (ioSize > BigInt(ioSizeMax)) {
        throw new UsageError(
          `ioSize must be at most ${ioSizeMax} bytes (the readers' record limit)`,
          { cause: new LimitExceededError("-ios", ioSizeMax, ioSize) },
        );
      }
      const [input, closeInput] = await openInput(opts.str("i"), io.stdin);
      const progress = startProgress(opts.bool(PROGRESS_OPTION), io.stderr, {
        totalBytes: await inputSizeOf(opts.str("i")),
      });
      const source = countingSource(input, progress);
      try {
        const [sink, closeOutput] = await openOutput(opts.str("o"), io.stdout);
        try {
          await writeFullWdiff(source, sink, {
            ioSize: Number(ioSize),
            indexed: opts.bool("indexed"),
          });
        } finally {
          closeOutput();
        }
      } finally {
        progress.finish();
        closeInput();
      }
      return 0;
    }),
};
