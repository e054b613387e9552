/**
 * `walb wdiff-redo`: apply a wdiff to an existing device or image file (offline-tools.md §5.3,
 * wdiff-and-archive.md §6.5). Records past the device end, and discards without `-d`/`-z`, are
 * reported as `Failed to redo` (exit status 0). The target is not synced, as the original.
 *
 * @module
 */
import { CorruptDataError, UsageError } from "../lib/errors.ts";
import { BufferedReader } from "../lib/io/stream.ts";
import { type BlockDevice, openBlockDevice } from "../lib/device/block/mod.ts";
import { FileRangeZeroer } from "../lib/device/block/zero_range.ts";
import {
  type DiffKind,
  type DiffRecord,
  type DiffStatistics,
  emptyDiffStatistics,
  openWdiff,
  PACK_HEADER_SIZE,
  readWdiffStream,
  type WdiffReader,
} from "../lib/format/wdiff/mod.ts";
import { applyDiff, type ApplyTarget, type DiscardPolicy } from "../lib/format/wdiff/apply.ts";
import { decodePackRecordsReusing, ScratchBuffer } from "../lib/format/wdiff/sorted_reader.ts";
import { type Command, runTool, type TextOut } from "./command.ts";
import { OptionParser } from "./option.ts";
import {
  addProgressOption,
  inputSizeOf,
  type Progress,
  PROGRESS_OPTION,
  startProgress,
} from "./progress.ts";
import { countedRecords } from "./wdiff_merge.ts";

function parser(): OptionParser {
  const p = new OptionParser("wdiff-redo", {
    description: "wdiff-redo: redo wdiff file on a block device.",
  });
  p.param("DEVICE_PATH", "string", "");
  p.option("i", "string", "PATH: input wdiff path. '-' for stdin. (default: '-')", {
    default: "-",
  });
  p.flag("d", ": issue discard IOs for discard diffs.");
  p.flag("z", ": issue all-zero IOs for discard diffs.");
  p.flag("v", ": verbose messages to stderr.");
  return addProgressOption(p);
}

const KIND_NAMES: Record<DiffKind, string> = {
  normal: "Normal",
  discard: "Discard",
  allZero: "Allzero",
};

/** The five summary lines of one statistics block. */
function formatRedoStatistics(stats: DiffStatistics): string[] {
  const total = stats.normalCount + stats.discardCount + stats.allZeroCount;
  const blocks = stats.normalLb + stats.discardLb + stats.allZeroLb;
  return [
    `nIoTotal:     ${total}`,
    `  nIoNormal:  ${stats.normalCount}`,
    `  nIoDiscard: ${stats.discardCount}`,
    `  nIoAllZero: ${stats.allZeroCount}`,
    `nBlocks:      ${blocks}`,
  ];
}

/** Zero bytes written per call when zeroing (1 MiB). */
const ZERO_CHUNK_SIZE = 1 << 20;

/**
 * The target file or block device, written with synchronous positional calls: one async
 * seek+write pair costs ~50 µs in Deno, the sync pair ~2 µs, and a redo of small records is
 * dominated by that cost. Discards (`-d`) go through a {@link FileDevice} (hole punching).
 * Zeroes (`-z` discards, all-zero records) on a regular file use `fallocate(ZERO_RANGE)`
 * instead of writing zero pages (same file bytes; 1.8 GiB of zero writes took 77 % of the
 * issue #3 redo); block devices and filesystems without ZERO_RANGE get written zeroes.
 */
class SyncFileTarget implements ApplyTarget {
  #file: Deno.FsFile;
  #zeros: Uint8Array | undefined;
  #device: BlockDevice | undefined;
  #zeroer: FileRangeZeroer | null | undefined;
  /** The file position after our last write (-1 unknown): a seek there is skipped. */
  #position = -1;

  private constructor(file: Deno.FsFile, readonly sizeBytes: number, readonly path: string) {
    this.#file = file;
  }

  static async open(path: string): Promise<SyncFileTarget> {
    const stat = await Deno.stat(path);
    if (!stat.isFile && !stat.isBlockDevice) {
      throw new UsageError(`${path}: not a regular file or a block device`);
    }
    const file = await Deno.open(path, { read: true, write: true });
    try {
      // seek(END) also gives the size of a block device, whose stat size is 0 (and leaves
      // the position unknown to #writeAt).
      return new SyncFileTarget(file, file.seekSync(0, Deno.SeekMode.End), path);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  #writeAt(offsetBytes: number, data: Uint8Array): void {
    // Half of the issue #3 redo's writes start where the previous one ended (the next record,
    // or zeroes over the rest of its block): no seek needed.
    if (offsetBytes !== this.#position) this.#file.seekSync(offsetBytes, Deno.SeekMode.Start);
    this.#position = -1; // unknown until this write completes
    let done = 0;
    while (done < data.length) done += this.#file.writeSync(data.subarray(done));
    this.#position = offsetBytes + data.length;
  }

  write(offsetBytes: number, data: Uint8Array): Promise<void> {
    this.#writeAt(offsetBytes, data);
    return Promise.resolve();
  }

  writeZeroes(offsetBytes: number, lengthBytes: number): Promise<void> {
    if (this.#zeroer === undefined) this.#zeroer = FileRangeZeroer.open(this.path);
    const writeZeroes = (at: number, length: number) => this.#writeZeroesAt(at, length);
    if (this.#zeroer?.zero(offsetBytes, lengthBytes, writeZeroes)) return Promise.resolve();
    this.#writeZeroesAt(offsetBytes, lengthBytes);
    return Promise.resolve();
  }

  #writeZeroesAt(offsetBytes: number, lengthBytes: number): void {
    this.#zeros ??= new Uint8Array(ZERO_CHUNK_SIZE);
    for (let done = 0; done < lengthBytes; done += ZERO_CHUNK_SIZE) {
      const size = Math.min(ZERO_CHUNK_SIZE, lengthBytes - done);
      this.#writeAt(offsetBytes + done, this.#zeros.subarray(0, size));
    }
  }

  async discard(offsetBytes: number, lengthBytes: number): Promise<void> {
    this.#device ??= await openBlockDevice(this.path, { direct: false });
    await this.#device.discard(offsetBytes, lengthBytes);
  }

  async close(): Promise<void> {
    this.#file.close();
    this.#zeroer?.close();
    await this.#device?.close();
  }
}

/**
 * Applies `records` to the device at `path` with wdiff-redo's rules, printing `Failed to redo`
 * lines and the summary to `out`.
 */
export async function redoWdiff(
  records: AsyncIterable<DiffRecord>,
  path: string,
  policy: DiscardPolicy,
  out: TextOut,
): Promise<void> {
  const device = await SyncFileTarget.open(path);
  const input = emptyDiffStatistics();
  const output = emptyDiffStatistics();
  try {
    await applyDiff(records, device, {
      discardPolicy: policy,
      outOfRange: "skip",
      inputStats: input,
      outputStats: output,
      onSkipped: (record) => {
        out.line(
          `Failed to redo: ${record.ioAddress} ${record.ioBlocks} ${KIND_NAMES[record.kind]}`,
        );
      },
    });
  } finally {
    await device.close();
  }
  out.line("Input statistics:");
  for (const line of formatRedoStatistics(input)) out.line(line);
  out.line("Output statistics:");
  for (const line of formatRedoStatistics(output)) out.line(line);
}

/**
 * The records of `reader`, counting pack bytes in `progress` when it is shown. The data of a
 * sorted wdiff's records is a view of its pack's payload (raw) or of one reused buffer
 * (decompressed), and the payload buffer is reused too: each record is written before the
 * next is asked for.
 */
async function* recordsOf(
  reader: WdiffReader,
  progress: Progress | undefined,
): AsyncGenerator<DiffRecord> {
  if (reader.format === "indexed") {
    yield* progress === undefined
      ? reader.records()
      : countedRecords(reader, emptyDiffStatistics(), progress);
    return;
  }
  const scratch = new ScratchBuffer();
  for await (const pack of reader.packs({ reusePayload: true })) {
    progress?.add(PACK_HEADER_SIZE + pack.header.totalSize);
    yield* decodePackRecordsReusing(pack, scratch);
  }
}

/** The wdiff-redo subcommand. */
export const command: Command = {
  name: "wdiff-redo",
  summary: "apply a wdiff to a device or image file",
  run: (args, io) =>
    runTool("wdiff-redo", io, async ({ out }) => {
      const opts = parser().parse(args);
      // -d wins over -z; both together are allowed (offline-tools.md §5.3).
      const policy: DiscardPolicy = opts.bool("d")
        ? "passdown"
        : opts.bool("z")
        ? "zero"
        : "ignore";
      const inputPath = opts.str("i");
      const progress = opts.bool(PROGRESS_OPTION)
        ? startProgress(true, io.stderr, { totalBytes: await inputSizeOf(inputPath) })
        : undefined;
      try {
        if (inputPath === "-") {
          const reader = await readWdiffStream(new BufferedReader(io.stdin)).catch((error) => {
            if (error instanceof CorruptDataError && error.message.includes("seekable")) {
              // The original's message for an indexed wdiff on a pipe.
              throw new UsageError(
                "IndexedDiffReader:non-seekable file descriptor is not supported:0",
                { cause: error },
              );
            }
            throw error;
          });
          await redoWdiff(recordsOf(reader, progress), opts.str("DEVICE_PATH"), policy, out);
          return 0;
        }
        const opened = await openWdiff(inputPath);
        try {
          await redoWdiff(
            recordsOf(opened.reader, progress),
            opts.str("DEVICE_PATH"),
            policy,
            out,
          );
        } finally {
          opened.close();
        }
        return 0;
      } finally {
        progress?.finish();
      }
    }),
};
