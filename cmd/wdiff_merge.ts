/**
 * `walb wdiff-merge`: merge wdiffs, oldest first, into one sorted wdiff (offline-tools.md
 * §5.2; wdiff-and-archive.md §6.4, writer variant B, all-zero uuid). `-stat` prints true
 * statistics (docs/compatibility.md). Also exports the input helpers virt-full-cat shares.
 *
 * @module
 */
import { CompressionType, parseCompressOpt } from "../lib/codec/mod.ts";
import type { CompressOpt } from "../lib/codec/codec.ts";
import { UsageError } from "../lib/errors.ts";
import { BufferedReader, BufferedWriter, type ByteSink } from "../lib/io/stream.ts";
import { syncIfRegular } from "../lib/io/sync_file.ts";
import { WritebackSink } from "../lib/io/writeback_sink.ts";
import { FileRandomAccess, RandomAccessByteSource } from "../lib/io/random_access.ts";
import {
  decodePackRecords,
  type DiffRecord,
  type DiffStatistics,
  emptyDiffStatistics,
  formatStatisticsLine,
  openWdiff,
  PACK_HEADER_SIZE,
  readWdiffStream,
  SortedWdiffReader,
  SortedWdiffWriter,
  type StatisticsFormat,
  WDIFF_HEADER_SIZE,
  type WdiffHeader,
  type WdiffReader,
} from "../lib/format/wdiff/mod.ts";
import { groupPacks, mergeDiffBatches, type MergeInput } from "../lib/format/wdiff/merge.ts";
import { compressPackParts } from "../lib/format/wdiff/merge_workers.ts";
import { type PayloadHolder, PayloadPool } from "../lib/format/wdiff/merge_payload_pool.ts";
import { type Command, type CommandIo, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";
import {
  addProgressOption,
  inputSizeOf,
  type Progress,
  PROGRESS_OPTION,
  startProgress,
} from "./progress.ts";

function parser(): OptionParser {
  const p = new OptionParser("wdiff-merge", {
    description: "Merge wdiff files.",
    hHelp: ": put this message.",
  });
  p.option("x", "u32", "SIZE: max IO size [byte]. 0 means no limitation.", { default: "0" });
  p.list("i", "string", "WDIFF_PATH_LIST: input wdiff paths.");
  p.option("o", "string", "WDIFF_PATH: output wdiff path (default: stdout).", { default: "-" });
  p.flag("stat", ": put statistics.");
  p.option(
    "cmpr",
    "string",
    "type:level:concurrency : compression for output (default: snappy:0:1)",
    { default: "snappy:0:1" },
  );
  return addProgressOption(p);
}

/**
 * Records of one reader, counting F9 input statistics: the record counts and lb, the wdiff
 * (every input file counts, as in the original's mergeIn line) and its data size.
 */
export async function* countedRecords(
  reader: WdiffReader,
  stats: DiffStatistics,
  progress?: Progress,
  release?: PayloadHolder,
): AsyncGenerator<DiffRecord> {
  for await (const batch of countedRecordBatches(reader, stats, progress, release)) {
    if (Array.isArray(batch)) yield* batch;
    else yield batch as DiffRecord;
  }
}

/**
 * {@link countedRecords} with a sorted wdiff's records one batch (array) per pack, for
 * `mergeDiffs`: an async step per record cost more than merging it.
 */
export async function* countedRecordBatches(
  reader: WdiffReader,
  stats: DiffStatistics,
  progress?: Progress,
  release?: PayloadHolder,
): AsyncGenerator<DiffRecord | readonly DiffRecord[]> {
  stats.wdiffCount++;
  if (reader.format === "indexed") {
    stats.dataSize += reader.dataAreaSize;
    yield* reader.records();
    progress?.add(reader.dataAreaSize);
    return;
  }
  const take = release?.take?.bind(release);
  for await (const pack of reader.packs(take === undefined ? {} : { allocatePayload: take })) {
    stats.dataSize += pack.header.totalSize;
    progress?.add(PACK_HEADER_SIZE + pack.header.totalSize);
    const last = pack.header.records.at(-1);
    if (release !== undefined && last !== undefined) {
      release.add(pack.payload, last.ioAddress + last.ioBlocks);
    }
    // Lazy: a merge drops most of what it reads; only used records are decompressed. Raw
    // records are views of the payload (fresh per pack, freed once the output passed it).
    yield decodePackRecords(pack, { lazy: true, shareRaw: true });
  }
}

/**
 * Buffer of the merge's sorted file readers [bytes]: one pack header and a little more. Why
 * not the default 1 MiB: each header read filled the buffer with up to 1 MiB of the payload
 * that follows, which was then copied into the payload's own array; with a small buffer the
 * payload is read straight into it (a third of the input bytes were copied twice).
 */
const PACK_READER_BUFFER_SIZE = 16 * 1024;

/** A sorted wdiff reader over `random` (after its header) that reads payloads directly. */
function packReaderOf(random: FileRandomAccess, header: WdiffHeader): SortedWdiffReader {
  const source = new RandomAccessByteSource(random, WDIFF_HEADER_SIZE);
  const stream = new BufferedReader(source, PACK_READER_BUFFER_SIZE);
  stream.position = WDIFF_HEADER_SIZE;
  return new SortedWdiffReader(stream, header);
}

/** Opened inputs: one record stream per path (oldest first) and a close for all files. */
export interface OpenedInputs {
  /** Records, or a sorted wdiff's records one batch per pack (see `MergeInput`). */
  streams: MergeInput[];
  close(): void;
}

/**
 * Opens wdiff paths (sorted or indexed, dispatching on the header); `-` reads a sorted wdiff
 * from stdin.
 *
 * @param paths input paths, oldest first
 * @param io the command's streams (stdin)
 * @param stats receives wdiffNr and dataSize per input as it is read
 * @param progress counts the pack bytes read (`--progress`)
 */
export async function openWdiffInputs(
  paths: readonly string[],
  io: CommandIo,
  stats: DiffStatistics,
  progress?: Progress,
  release?: PayloadHolder,
): Promise<OpenedInputs> {
  const closers: (() => void)[] = [];
  const close = () => {
    for (const closer of closers) closer();
  };
  const streams: MergeInput[] = [];
  try {
    for (const path of paths) {
      if (path === "-") {
        const reader = await readWdiffStream(new BufferedReader(io.stdin));
        streams.push(countedRecordBatches(reader, stats, progress, release));
        continue;
      }
      const random = await FileRandomAccess.open(path);
      const opened = await openWdiff(random); // closes `random` when it throws
      closers.push(opened.close);
      const reader = opened.reader.format === "sorted"
        ? packReaderOf(random, opened.reader.header)
        : opened.reader;
      streams.push(countedRecordBatches(reader, stats, progress, release));
    }
  } catch (error) {
    close();
    throw error;
  }
  return { streams, close };
}

/**
 * A progress counter over wdiff inputs: their total size when every path is a file.
 *
 * @param enabled `--progress` was given
 * @param paths input paths
 * @param stderr the command's stderr
 */
export async function progressOverInputs(
  enabled: boolean,
  paths: readonly string[],
  stderr: unknown,
): Promise<Progress> {
  if (!enabled) return startProgress(false, stderr);
  let total: number | undefined = 0;
  for (const path of paths) {
    const size = await inputSizeOf(path);
    total = size === undefined || total === undefined ? undefined : total + size;
  }
  return startProgress(true, stderr, { totalBytes: total });
}

/** An output path opened for writing; `finish` syncs regular files (never pipes) and closes. */
export interface OpenedOutput {
  sink: ByteSink;
  finish(options: { sync: boolean }): Promise<void>;
  close(): void;
}

/**
 * Opens an output path (`-` = stdout), created with mode 0644 and truncated.
 *
 * @param path the path or `-`
 * @param stdout the command's stdout
 */
export async function openOutput(
  path: string,
  stdout: ByteSink,
  options: { syncAtEnd?: boolean } = {},
): Promise<OpenedOutput> {
  if (path === "-") {
    return { sink: stdout, finish: () => Promise.resolve(), close: () => {} };
  }
  const file = await Deno.open(path, { write: true, create: true, truncate: true, mode: 0o644 });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    file.close();
  };
  // Regular files are written synchronously (an async write costs ~50 µs of idle time); one
  // synced at the end starts its disk writes early (lib/io/writeback_sink.ts).
  const isFile = file.statSync().isFile;
  const writeback = isFile && options.syncAtEnd ? new WritebackSink(file) : undefined;
  return {
    sink: writeback ?? syncIfRegular(file),
    close,
    finish: async ({ sync }) => {
      // fdatasync fails on pipes and character devices; only regular files need it.
      if (writeback !== undefined && sync) await writeback.finish();
      else if (sync && isFile) await file.syncData();
      else await writeback?.settle();
      close();
    },
  };
}

/** Parses `-cmpr` with the original's messages; refuses xz presets walb-tools cannot read. */
export function parseCompressOption(text: string): CompressOpt {
  let opt: CompressOpt;
  try {
    opt = parseCompressOpt(text);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message.startsWith("wrong type:")) {
      throw new UsageError(`parseCompressionType:${error.message}`, { cause: error });
    }
    if (error.message.startsWith("parse error:")) {
      throw new UsageError(`parseCompressOpt:${error.message}`, { cause: error });
    }
    throw error;
  }
  if (opt.type === CompressionType.lzma && opt.level > 6) {
    throw new UsageError(
      `CompressOpt::verify:lzma level ${opt.level} makes files walb-tools cannot read (use 0..6)`,
    );
  }
  return opt;
}

/** Figures of one merge, for `-stat`. */
export interface MergeFigures {
  input: DiffStatistics;
  output: DiffStatistics;
  memory: { peakBytes: number };
}

/** Fresh counters for {@link MergeFigures}. */
export function emptyMergeFigures(): MergeFigures {
  return { input: emptyDiffStatistics(), output: emptyDiffStatistics(), memory: { peakBytes: 0 } };
}

/** The three `-stat` lines (each ending in a newline). */
export function formatMergeFigures(
  figures: MergeFigures,
  outputFormat: StatisticsFormat = {},
): string {
  const kib = Math.ceil(figures.memory.peakBytes / 1024);
  return `mergeIn  ${formatStatisticsLine(figures.input)}\n` +
    `mergeOut ${formatStatisticsLine(figures.output, outputFormat)}\n` +
    `mergeMemUsage ${kib}KiB\n`;
}

/**
 * Merges record streams and writes a sorted wdiff with writer variant B and an all-zero uuid.
 *
 * @param streams inputs, oldest first
 * @param sink output
 * @param options maxBlocks (0 = unlimited), compression, figures to fill
 */
export async function writeMergedWdiff(
  streams: readonly MergeInput[],
  sink: ByteSink,
  options: {
    maxBlocks: number;
    compression: CompressOpt;
    figures: MergeFigures;
    /** Frees input payloads as the output passes them (the inputs registered them). */
    release?: PayloadHolder;
  },
): Promise<void> {
  const { figures } = options;
  const writer = new SortedWdiffWriter(new BufferedWriter(sink), { variant: "B" });
  const setting = { type: options.compression.type, level: options.compression.level };
  const merged = mergeDiffBatches(streams, {
    maxBlocks: options.maxBlocks,
    inputStats: figures.input,
    outputStats: figures.output,
    memory: figures.memory,
  });
  // Workers start only when compressing dominates (the bytes never depend on it).
  const packs = compressPackParts(groupPacks(merged), setting, options.compression.numCpu, {
    nowMs: () => performance.now(),
  });
  for await (const pack of packs) {
    for (const part of pack.parts) figures.output.dataSize += part.length;
    await writer.addPackParts(pack.block, pack.parts);
    options.release?.releaseThrough(pack.endLb);
  }
  await writer.close();
  figures.output.wdiffCount = 1;
}

/** The wdiff-merge subcommand. */
export const command: Command = {
  name: "wdiff-merge",
  summary: "merge wdiff files (oldest first) into one sorted wdiff",
  run: (args, io) =>
    runTool("wdiff-merge", io, async ({ log, out }) => {
      const p = parser();
      const opts = p.parse(args);
      const paths = opts.strs("i");
      if (paths.length === 0) {
        log.raw("You must specify one or more input wdiff files.\n");
        out.write(p.usage());
        return 1;
      }
      const compression = parseCompressOption(opts.str("cmpr"));
      const output = await openOutput(opts.str("o"), io.stdout);
      try {
        const maxIoSize = opts.num("x");
        if (maxIoSize > 0 && maxIoSize < 512) {
          throw new UsageError("Too small max IO size specified.");
        }
        const figures = emptyMergeFigures();
        const progress = await progressOverInputs(opts.bool(PROGRESS_OPTION), paths, io.stderr);
        const release = new PayloadPool();
        const inputs = await openWdiffInputs(paths, io, figures.input, progress, release);
        try {
          await writeMergedWdiff(inputs.streams, output.sink, {
            maxBlocks: Math.floor(maxIoSize / 512),
            compression,
            figures,
            release,
          });
        } finally {
          progress.finish();
          inputs.close();
        }
        await output.finish({ sync: false });
        if (opts.bool("stat")) log.raw(formatMergeFigures(figures));
      } finally {
        output.close();
      }
      return 0;
    }),
};
