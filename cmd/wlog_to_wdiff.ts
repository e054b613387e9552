/**
 * `walb wlog-to-wdiff`: convert one or more concatenated wlogs to a sorted (default) or
 * indexed wdiff (offline-tools.md §3.3, wdiff-and-archive.md §6.3). Sorted mode holds the
 * whole diff in memory; indexed mode streams. A regular output file is fdatasync'ed; a pipe
 * is not (docs/compatibility.md).
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import { BufferedReader, BufferedWriter, type ByteSource } from "../lib/io/stream.ts";
import { syncIfRegular } from "../lib/io/sync_file.ts";
import { FileRandomAccess } from "../lib/io/random_access.ts";
import {
  convertWlogToIndexedWdiff,
  convertWlogToSortedWdiff,
  type WlogConversionOptions,
  WlogSequenceError,
} from "../lib/format/wdiff/wlog_to_wdiff.ts";
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
import { openOutput } from "./wdiff_merge.ts";

const USAGE = "Usage: wlog-to-wdiff < [wlog] > [wdiff]\n" +
  "  -h : show this message\n" +
  "  -i : input wlog file (default: stdin)\n" +
  "  -o : output wdiff file (default: stdout)\n" +
  "  -x : max IO size in the output wdiff (0 means unlimited) [byte].\n" +
  "  -indexed : use indexed format instead of sorted format.\n" +
  "  -debug : put debug messages.\n";

/** The original's usage plus the `--progress` extension line. */
const USAGE_WITH_PROGRESS = usageWithProgress(USAGE, `-${PROGRESS_OPTION} ${PROGRESS_HELP}`);

function parser(): OptionParser {
  const p = new OptionParser("wlog-to-wdiff", { usage: USAGE_WITH_PROGRESS });
  p.option("i", "string", ": input wlog file (default: stdin)", { default: "-" });
  p.option("o", "string", ": output wdiff file (default: stdout)", { default: "-" });
  p.option("x", "u32", ": max IO size in the output wdiff (0 means unlimited) [byte].", {
    default: "1048576",
  });
  p.flag("indexed", ": use indexed format instead of sorted format.");
  p.flag("debug", ": put debug messages.");
  return addProgressOption(p);
}

/** The wlog-to-wdiff subcommand. */
export const command: Command = {
  name: "wlog-to-wdiff",
  summary: "convert wlogs to a sorted or indexed wdiff",
  run: (args, io) =>
    runTool("wlog-to-wdiff", io, async ({ log }) => {
      const opts = parser().parse(args);
      log.debugEnabled = opts.bool("debug");
      const inputPath = opts.str("i");
      using input = inputPath === "-" ? undefined : await Deno.open(inputPath);
      const indexed = opts.bool("indexed");
      // A regular input file is read again for the data of the sorted output instead of
      // holding it (a second handle, positional reads).
      const reread = input !== undefined && !indexed && (await input.stat()).isFile
        ? await FileRandomAccess.open(inputPath)
        : undefined;
      const progress = startProgress(opts.bool(PROGRESS_OPTION), io.stderr, {
        totalBytes: await inputSizeOf(inputPath),
      });
      const source: ByteSource = countingSource(
        input === undefined ? io.stdin : syncIfRegular(input),
        progress,
      );
      const output = await openOutput(opts.str("o"), io.stdout, { syncAtEnd: true });
      try {
        const options: WlogConversionOptions = {
          // Below one block (0 included) means unlimited.
          maxBlocks: Math.floor(opts.num("x") / 512),
          onWlogEnd: (_header, endLsid) => {
            progress.clear();
            log.info(`converted until lsid ${endLsid}`);
          },
          ...(reread === undefined ? {} : { rereadFrom: reread }),
        };
        const convert = indexed ? convertWlogToIndexedWdiff : convertWlogToSortedWdiff;
        try {
          await convert(new BufferedReader(source), new BufferedWriter(output.sink), options);
        } catch (error) {
          if (error instanceof WlogSequenceError) {
            // The original's messages: "lsid mismatch." and "operator():uuid differ:…".
            const text = error.originalText.startsWith("uuid")
              ? `operator():${error.originalText}`
              : error.originalText;
            throw new UsageError(text, { cause: error });
          }
          throw error;
        }
        await output.finish({ sync: true });
      } finally {
        progress.finish();
        output.close();
        reread?.close();
      }
      return 0;
    }),
};
