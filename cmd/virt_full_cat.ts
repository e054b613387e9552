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
import { BufferedWriter, type ByteSink } from "../lib/io/stream.ts";
import { SyncFile } from "../lib/io/sync_file.ts";
import { HoleFinder } from "../lib/device/block/data_extents.ts";
import type { DiffRecord } from "../lib/format/wdiff/diff_record.ts";
import { mergeDiffs } from "../lib/format/wdiff/merge.ts";
import { virtualFullChunks } from "../lib/format/wdiff/virtual_full.ts";
import { type Command, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";
import {
  addProgressOption,
  type Progress,
  PROGRESS_OPTION,
  startProgress,
  usageWithProgress,
} from "./progress.ts";
import { emptyMergeFigures, formatMergeFigures, openWdiffInputs } from "./wdiff_merge.ts";

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
  private constructor(
    readonly file: Deno.FsFile,
    readonly sizeBytes: number,
    readonly holes: HoleFinder | null,
  ) {}

  static async open(path: string): Promise<SyncBase> {
    const file = await Deno.open(path, { read: true });
    try {
      const size = file.seekSync(0, Deno.SeekMode.End);
      return new SyncBase(file, size, HoleFinder.open(path));
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

  /** True when the range is a hole of a sparse base file (reads as zeroes). */
  isZero(offset: number, length: number): boolean {
    return this.holes?.isHole(offset, length) ?? false;
  }

  close(): void {
    this.file.close();
    this.holes?.close();
  }
}

/** Bytes per chunk at least: fewer, larger reads and writes than the default 128 KiB `-b`. */
const CHUNK_SIZE_MIN = 1 << 20;

/**
 * The output image: a regular file is written sparsely (known-zero chunks are skipped with a
 * seek, the length set at the end), anything else (stdout, a block device) gets zeroes written.
 * Why: the issue #3 base is a 2 GiB hole; writing its zeroes was most of the tool's time.
 */
class ImageOutput {
  #writer: BufferedWriter;
  #zeros: Uint8Array | undefined;

  private constructor(
    readonly file: Deno.FsFile | undefined,
    readonly sparse: boolean,
    sink: ByteSink,
  ) {
    this.#writer = new BufferedWriter(sink);
  }

  static async open(path: string, stdout: ByteSink): Promise<ImageOutput> {
    if (path === "-") return new ImageOutput(undefined, false, stdout);
    const file = await Deno.open(path, { write: true, create: true, truncate: true, mode: 0o644 });
    try {
      const sparse = file.statSync().isFile;
      return new ImageOutput(file, sparse, sparse ? new SyncFile(file) : file);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  write(data: Uint8Array): Promise<void> {
    return this.#writer.write(data);
  }

  async writeZeroes(length: number): Promise<void> {
    if (this.sparse) {
      await this.#writer.flush();
      this.file!.seekSync(length, Deno.SeekMode.Current);
      return;
    }
    if (this.#zeros === undefined || this.#zeros.length < length) {
      this.#zeros = new Uint8Array(length);
    }
    // The shared zero buffer is never modified, so the writer may keep a view of it.
    await this.#writer.write(this.#zeros.subarray(0, length));
  }

  /** Flushes, sets a sparse file's length to `sizeBytes`, fdatasyncs a regular file. */
  async finish(sizeBytes: number): Promise<void> {
    await this.#writer.flush();
    if (this.sparse) {
      this.file!.truncateSync(sizeBytes);
      this.file!.syncDataSync();
    }
  }

  close(): void {
    this.file?.close();
  }
}

/** Writes the virtual full image of `base` and `merged` to `output`. */
async function writeImage(
  base: SyncBase,
  merged: AsyncIterable<DiffRecord>,
  output: ImageOutput,
  options: { chunkSize: number; progress: Progress },
): Promise<void> {
  const image = {
    size: base.sizeBytes,
    readAt: (o: number, l: number) => base.readAt(o, l),
    isZero: (o: number, l: number) => base.isZero(o, l),
  };
  const chunkSize = Math.max(options.chunkSize, CHUNK_SIZE_MIN);
  for await (const chunk of virtualFullChunks(image, merged, { chunkSize })) {
    if (chunk.data === null) await output.writeZeroes(chunk.length);
    else await output.write(chunk.data);
    options.progress.add(chunk.length);
  }
  await output.finish(base.sizeBytes);
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
          const output = await ImageOutput.open(opts.str("o"), io.stdout);
          try {
            const progress = startProgress(opts.bool(PROGRESS_OPTION), io.stderr, {
              totalBytes: base.sizeBytes,
            });
            const merged = mergeDiffs(inputs.streams, {
              maxBlocks: LIMITS.diffIoLbDefault,
              inputStats: figures.input,
              outputStats: figures.output,
              memory: figures.memory,
            });
            try {
              await writeImage(base, merged, output, { chunkSize: bufferSize, progress });
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
