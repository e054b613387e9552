/**
 * `walb wdiff-redo`: apply a wdiff to an existing device or image file (offline-tools.md §5.3,
 * wdiff-and-archive.md §6.5). Records past the device end, and discards without `-d`/`-z`, are
 * reported as `Failed to redo` (exit status 0). The target is not synced, as the original.
 *
 * @module
 */
import { CorruptDataError, UsageError } from "../lib/errors.ts";
import { BufferedReader } from "../lib/io/stream.ts";
import { openBlockDevice } from "../lib/device/block/mod.ts";
import {
  type DiffKind,
  type DiffRecord,
  type DiffStatistics,
  emptyDiffStatistics,
  openWdiff,
  readWdiffStream,
} from "../lib/format/wdiff/mod.ts";
import { applyDiff, type DiscardPolicy } from "../lib/format/wdiff/apply.ts";
import { type Command, runTool, type TextOut } from "./command.ts";
import { OptionParser } from "./option.ts";

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
  return p;
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
  const device = await openBlockDevice(path, { direct: false });
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
        await redoWdiff(reader.records(), opts.str("DEVICE_PATH"), policy, out);
        return 0;
      }
      const opened = await openWdiff(inputPath);
      try {
        await redoWdiff(opened.reader.records(), opts.str("DEVICE_PATH"), policy, out);
      } finally {
        opened.close();
      }
      return 0;
    }),
};
