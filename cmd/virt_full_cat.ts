/**
 * `walb virt-full-cat`: write a base image overlaid with wdiffs, oldest first
 * (offline-tools.md §5.5, wdiff-and-archive.md §6.6): all-zero and discard blocks read as
 * zeros; the output has the base's length. `-b` below 512 is an error and `-stat` prints true
 * figures (docs/compatibility.md).
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import { LIMITS } from "../lib/limits.ts";
import { BufferedWriter } from "../lib/io/stream.ts";
import { mergeDiffs } from "../lib/format/wdiff/merge.ts";
import { virtualFullImage } from "../lib/format/wdiff/virtual_full.ts";
import { type Command, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";
import {
  addProgressOption,
  PROGRESS_OPTION,
  startProgress,
  usageWithProgress,
} from "./progress.ts";
import {
  emptyMergeFigures,
  formatMergeFigures,
  openOutput,
  openWdiffInputs,
} from "./wdiff_merge.ts";

const USAGE = "virt-full-cat:\n" +
  "  Full scan of virtul full image that consists\n" +
  "  a base full image and additional wdiff files.\n" +
  "Usage: virt-full-cat (options) -i [input image] -d [input wdiffs] -o [output image]\n" +
  "Options:\n" +
  "  -i arg:  Input full image path. This must be seekable.\n" +
  "  -o arg:  Output full image path. '-' means stdout. (default '-')\n" +
  "  -w args: Input wdiff paths\n" +
  "  -b arg:  Buffer size [byte]. default: '64K'\n" +
  "  -stat:   Put merging statistics.\n" +
  "  -h:      Show this help message.\n" +
  "\n";

/** The original's usage plus the `--progress` extension line (before the final blank line). */
const USAGE_WITH_PROGRESS = usageWithProgress(
  USAGE,
  "--progress: Show progress on stderr (TTY only).",
);

function parser(): OptionParser {
  const p = new OptionParser("virt-full-cat", { usage: USAGE_WITH_PROGRESS });
  p.required("i", "string", "Input full image path. This must be seekable.");
  p.option("o", "string", "Output full image path. '-' means stdout.", { default: "-" });
  p.list("d", "string", "Input wdiff paths");
  p.option("b", "u32", "Buffer size [byte].", { default: "131072" });
  p.flag("stat", "Put merging statistics.");
  return addProgressOption(p);
}

/**
 * The base image read with synchronous positional calls (Deno's async seek+read pair costs
 * ~50 µs; the sync pair a few µs). Block devices are sized by seeking to the end.
 */
class SyncBase {
  private constructor(readonly file: Deno.FsFile, readonly sizeBytes: number) {}

  static async open(path: string): Promise<SyncBase> {
    const file = await Deno.open(path, { read: true });
    try {
      return new SyncBase(file, file.seekSync(0, Deno.SeekMode.End));
    } catch (error) {
      file.close();
      throw error;
    }
  }

  readAt(offset: number, length: number): Promise<Uint8Array> {
    const bytes = new Uint8Array(length);
    this.file.seekSync(offset, Deno.SeekMode.Start);
    let done = 0;
    while (done < length) {
      const count = this.file.readSync(bytes.subarray(done));
      if (count === null || count === 0) {
        throw new UsageError(`base image ended at ${offset + done}, expected ${this.sizeBytes}`);
      }
      done += count;
    }
    return Promise.resolve(bytes);
  }

  close(): void {
    this.file.close();
  }
}

/** The virt-full-cat subcommand. */
export const command: Command = {
  name: "virt-full-cat",
  summary: "write a base image overlaid with wdiffs",
  run: (args, io) =>
    runTool("virt-full-cat", io, async ({ log }) => {
      const opts = parser().parse(args);
      const bufferSize = Math.floor(opts.num("b") / LIMITS.lbSize) * LIMITS.lbSize;
      if (bufferSize === 0) {
        throw new UsageError(`buffer size -b must be at least 512 bytes: ${opts.num("b")}`);
      }
      const base = await SyncBase.open(opts.str("i"));
      try {
        if (base.sizeBytes % LIMITS.lbSize !== 0) {
          throw new UsageError(`AsyncBdevReader:bad device size:${base.sizeBytes}:512`);
        }
        const figures = emptyMergeFigures();
        const inputs = await openWdiffInputs(opts.strs("d"), io, figures.input);
        try {
          const output = await openOutput(opts.str("o"), io.stdout);
          try {
            const writer = new BufferedWriter(output.sink);
            const progress = startProgress(opts.bool(PROGRESS_OPTION), io.stderr, {
              totalBytes: base.sizeBytes,
            });
            const merged = mergeDiffs(inputs.streams, {
              maxBlocks: LIMITS.diffIoLbDefault,
              inputStats: figures.input,
              outputStats: figures.output,
              memory: figures.memory,
            });
            const image = {
              size: base.sizeBytes,
              readAt: (o: number, l: number) => base.readAt(o, l),
            };
            try {
              const chunks = virtualFullImage(image, merged, { chunkSize: bufferSize });
              for await (const chunk of chunks) {
                await writer.write(chunk);
                progress.add(chunk.length);
              }
              await writer.flush();
              await output.finish({ sync: true });
            } finally {
              progress.finish();
            }
          } finally {
            output.close();
          }
        } finally {
          inputs.close();
        }
        if (opts.bool("stat")) {
          log.raw(formatMergeFigures(figures, { notApplicable: ["wdiffCount", "dataSize"] }));
        }
      } finally {
        base.close();
      }
      return 0;
    }),
};
