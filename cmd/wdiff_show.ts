/**
 * `wdiff-show`: prints wdiff files (offline-tools.md §5.1, F6–F9): the header, every record
 * (sorted packs in file order, indexed records in index order), checksum findings and
 * statistics. Exit status: the worst result over all files (the original returned the last
 * file's; see docs/compatibility.md).
 *
 * @module
 */
import { COMPRESSION_NAMES } from "../lib/codec/codec.ts";
import { checksum } from "../lib/format/checksum/checksum.ts";
import { CorruptDataError } from "../lib/errors.ts";
import { FileRandomAccess, RandomAccessByteSource } from "../lib/io/random_access.ts";
import { BufferedReader } from "../lib/io/stream.ts";
import {
  countRecord,
  decodeWdiffHeader,
  type DiffStatistics,
  emptyDiffStatistics,
  formatStatisticsBlock,
  IndexedWdiffReader,
  type IndexRecord,
  isEndPack,
  kindOfFlags,
  type PackBlock,
  parseWdiffHeader,
  RecordFlag,
  type SortedRecord,
  SortedWdiffReader,
  storedBytesOf,
  uuidHex,
  validatePackHeader,
  WDIFF_HEADER_SIZE,
  type WdiffHeader,
  WdiffType,
} from "../lib/format/wdiff/mod.ts";
import { type Command, runTool, type TextOut } from "./command.ts";
import { OptionParser } from "./option.ts";

const DESCRIPTION = "wdiff-show: show the contents of wdiff files.\n" +
  "Records description:\n" +
  "  #wdiff_rec: addr blks cmpr offset size csum allzero discard";

function parser(): OptionParser {
  const p = new OptionParser("wdiff-show", {
    description: DESCRIPTION,
    hHelp: ": put this message.",
  });
  p.paramList("WDIFF_PATH_LIST", "string", ": wdiff file list (default: stdin)");
  p.flag("search", ": search a specific block.");
  p.option("addr", "u64", ": search address [logical block].", { default: "0" });
  p.flag("stat", ": put statistics.");
  p.flag("nohead", ": does not put header..");
  p.flag("norec", ": does not put records.");
  p.flag("csum", ": verify checksum of each IO data.");
  p.flag("debug", ": put debug messages.");
  return p;
}

/** What to print, from the options. */
interface ShowSettings {
  showHeader: boolean;
  showRecords: boolean;
  verifyData: boolean;
  /** Only records covering this address, or null for all. */
  searchAddress: number | null;
}

/** F6: the header in 5 lines. */
export function formatWdiffHeader(header: WdiffHeader): string[] {
  const type = header.type === WdiffType.sorted
    ? "sorted"
    : header.type === WdiffType.indexed
    ? "indexed"
    : `unknown:${header.type}`;
  return [
    "wdiff_h:",
    `  checksum: ${hex8(header.checksum)}`,
    `  version: ${header.version}`,
    `  type: ${type}`,
    `  uuid: ${uuidHex(header.uuid)}`,
  ];
}

function hex8(value: number): string {
  return value.toString(16).padStart(8, "0");
}

function compressionName(code: number, offset: number): string {
  const name = COMPRESSION_NAMES[code];
  if (name === undefined) {
    throw new CorruptDataError("wdiff record", offset, `unknown compression type ${code}`);
  }
  return name;
}

function zeroDiscardMarks(flags: number): string {
  return ((flags & RecordFlag.allZero) !== 0 ? "Z" : "-") +
    ((flags & RecordFlag.discard) !== 0 ? "D" : "-");
}

/** F7: a sorted record. */
export function formatSortedRecord(record: SortedRecord, offset = -1): string {
  return [
    record.ioAddress,
    record.ioBlocks,
    compressionName(record.compressionType, offset),
    record.dataOffset,
    record.dataSize,
    hex8(record.checksum),
    zeroDiscardMarks(record.flags),
  ].join("\t");
}

/** F8: an indexed record. */
export function formatIndexRecord(record: IndexRecord, offset = -1): string {
  return [
    record.ioAddress,
    record.ioBlocks,
    compressionName(record.compressionType, offset),
    record.dataOffset,
    record.dataSize,
    record.origBlocks,
    record.ioOffset,
    hex8(record.ioChecksum),
    hex8(record.recChecksum),
    zeroDiscardMarks(record.flags),
  ].join("\t");
}

function covers(settings: ShowSettings, record: { ioAddress: number; ioBlocks: number }) {
  const a = settings.searchAddress;
  return a === null || (record.ioAddress <= a && a < record.ioAddress + record.ioBlocks);
}

/** Prints a record line unless filtered out; a line with an error always prints. */
function putRecord(
  out: TextOut,
  settings: ShowSettings,
  record: { ioAddress: number; ioBlocks: number },
  line: string,
  error: string,
): void {
  const wanted = settings.showRecords && covers(settings, record);
  if (wanted || error !== "") out.line(line + error);
}

function putInvalidPack(out: TextOut, pack: PackBlock): void {
  out.line(`invalid pack: checksum: ${hex8(pack.header.checksum)}`);
  out.line(`n_records: ${pack.header.nRecords}`);
  out.line(`total_size: ${pack.header.totalSize}`);
  out.line(`isEnd: ${isEndPack(pack.header) ? 1 : 0}`);
  for (const [i, record] of pack.header.records.entries()) {
    out.line(`record ${i}: wdiff_rec:\t${formatSortedRecord(record, pack.offset)}`);
  }
}

/** Shows the packs of a sorted wdiff; returns the file's result (0 or 1). */
async function showSorted(
  reader: SortedWdiffReader,
  out: TextOut,
  settings: ShowSettings,
  stats: DiffStatistics,
): Promise<number> {
  let result = 0;
  for (;;) {
    const block = await reader.readPackBlock();
    if (block === null) {
      throw new CorruptDataError("wdiff pack header", -1, "eof error (no end pack)");
    }
    try {
      validatePackHeader(block.header, block.block, block.offset);
    } catch (error) {
      if (!(error instanceof CorruptDataError)) throw error;
      putInvalidPack(out, block);
      return 1;
    }
    if (isEndPack(block.header)) return result;
    const pack = await reader.readPackPayload(block);
    for (const record of pack.header.records) {
      const kind = kindOfFlags(record.flags) ?? "normal";
      countRecord(stats, kind, record.ioBlocks);
      stats.dataSize += record.dataSize;
      let error = "";
      if (settings.verifyData && kind === "normal") {
        const computed = checksum(storedBytesOf(pack, record), 0);
        if (computed !== record.checksum) error = ` invalid data checksum: ${hex8(computed)}`;
      }
      if (error !== "") result = 1;
      putRecord(out, settings, record, `wdiff_sorted_rec:\t${formatSortedRecord(record)}`, error);
    }
  }
}

/** Shows the index of an indexed wdiff; returns the file's result (0 or 1). */
async function showIndexed(
  reader: IndexedWdiffReader,
  out: TextOut,
  settings: ShowSettings,
  stats: DiffStatistics,
): Promise<number> {
  let result = 0;
  stats.wdiffCount++;
  stats.dataSize += reader.dataAreaSize;
  for await (const { record, offset, problem } of reader.rawIndexRecords()) {
    const kind = kindOfFlags(record.flags) ?? "normal";
    countRecord(stats, kind, record.ioBlocks);
    let error = problem === null ? "" : " invalid record";
    if (settings.verifyData && problem === null && kind === "normal") {
      try {
        await reader.readImage(record);
      } catch (caught) {
        if (!(caught instanceof CorruptDataError)) throw caught;
        error += " invalid data checksum";
      }
    }
    if (error !== "") result = 1;
    const line = `wdiff_indexed_rec:\t${formatIndexRecord(record, offset)}`;
    putRecord(out, settings, record, line, error);
  }
  return result;
}

/** Shows one file; returns its result (0 or 1). */
async function showFile(
  path: string,
  out: TextOut,
  settings: ShowSettings,
  stats: DiffStatistics,
): Promise<number> {
  const source = await FileRandomAccess.open(path);
  try {
    const bytes = await source.readAt(0, Math.min(WDIFF_HEADER_SIZE, source.size));
    if (bytes.length < WDIFF_HEADER_SIZE) {
      throw new CorruptDataError("wdiff header", 0, `file is only ${bytes.length} bytes`);
    }
    if (settings.showHeader) {
      for (const line of formatWdiffHeader(decodeWdiffHeader(bytes))) out.line(line);
    }
    const header = parseWdiffHeader(bytes);
    if (header.type === WdiffType.indexed) {
      return await showIndexed(await IndexedWdiffReader.open(source), out, settings, stats);
    }
    const stream = new BufferedReader(new RandomAccessByteSource(source, WDIFF_HEADER_SIZE));
    stream.position = WDIFF_HEADER_SIZE;
    return await showSorted(new SortedWdiffReader(stream, header), out, settings, stats);
  } finally {
    source.close();
  }
}

/** The wdiff-show subcommand. */
export const command: Command = {
  name: "wdiff-show",
  summary: "show the contents of wdiff files",
  run: (args, io) =>
    runTool("wdiff-show", io, async ({ log, out }) => {
      const p = parser();
      const opts = p.parse(args);
      log.debugEnabled = opts.bool("debug");
      const paths = opts.strs("WDIFF_PATH_LIST");
      if (paths.length === 0) {
        log.raw("Specify wdiff files.");
        out.write(p.usage());
        return 1;
      }
      const settings: ShowSettings = {
        showHeader: !opts.bool("nohead"),
        showRecords: !opts.bool("norec"),
        verifyData: opts.bool("csum"),
        searchAddress: opts.bool("search") ? Number(opts.big("addr")) : null,
      };
      const stats = emptyDiffStatistics();
      let worst = 0;
      for (const path of paths) {
        worst = Math.max(worst, await showFile(path, out, settings, stats));
      }
      if (opts.bool("stat")) {
        for (const line of formatStatisticsBlock(stats, "wdiff_stat: ")) out.line(line);
      }
      return worst;
    }),
};
