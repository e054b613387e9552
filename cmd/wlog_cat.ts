/**
 * `walb wlog-cat`: extract the logs of a log device as a wlog (offline-tools.md §3.5,
 * device-and-wlog.md §4.3).
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import { BufferedWriter, type ByteSink } from "../lib/io/stream.ts";
import {
  formatLogpack,
  formatWlogHeader,
  WlogStatistics,
  WlogWriter,
} from "../lib/format/wlog/mod.ts";
import { type Command, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";
import { addProgressOption, PROGRESS_OPTION, startProgress } from "./progress.ts";
import { openLogDevice } from "./wldev_info.ts";

function parser(): OptionParser {
  const p = new OptionParser("wlog-cat", {
    description: "wlog-cat: extract wlog from a walb log device.",
  });
  p.param("LOG_DEVICE_PATH", "string", "");
  p.option("o", "string", "PATH: output wlog path. '-' for stdout. (default: '-')", {
    default: "-",
  });
  p.option("b", "u64", "LSID: begin lsid to restore. (default: 0)", { default: "0" });
  p.option("e", "u64", "LSID: end lsid to restore. (default: 0xffffffffffffffff)", {
    default: "0xffffffffffffffff",
  });
  p.flag("noaio", ": do not use aio.");
  p.flag("s", ": do not shrink logpack (ignoring log IO invalidness).");
  p.flag("v", ": verbose output to stderr.");
  p.flag("debug", ": debug print to stderr.");
  p.flag("f", ": ignore oldest lsid in the superblock.");
  return addProgressOption(p);
}

/** `wlog-cat` */
export const command: Command = {
  name: "wlog-cat",
  summary: "extract the logs of a log device as a wlog",
  run: (args, io) =>
    runTool("wlog-cat", io, async ({ log }) => {
      const opts = parser().parse(args);
      const debug = opts.bool("debug");
      log.debugEnabled = debug;
      const verbose = opts.bool("v");
      const beginOption = opts.big("b");
      const endLsid = opts.big("e");
      if (beginOption >= endLsid) throw new UsageError("bgnLsid must be < endLsid.");

      await using ldev = await openLogDevice(opts.str("LOG_DEVICE_PATH"), { readOnly: true });
      const { sup, reader } = ldev;
      let beginLsid = beginOption;
      if (!opts.bool("f") && sup.oldestLsid > beginLsid) beginLsid = sup.oldestLsid;
      if (beginLsid >= endLsid) {
        throw new UsageError(`bgnLsid must be < endLsid.: begin ${beginLsid} (oldest lsid)`);
      }

      const outputPath = opts.str("o");
      using file = outputPath === "-" ? undefined : await Deno.open(outputPath, {
        write: true,
        create: true,
        truncate: true,
        mode: 0o644,
      });
      const sink: ByteSink = file ?? io.stdout;
      const writer = new WlogWriter(new BufferedWriter(sink));
      const header = await writer.writeHeader({
        salt: sup.salt,
        pbs: sup.pbs,
        uuid: sup.uuid,
        beginLsid,
        endLsid,
      });
      if (verbose || debug) log.raw(`${formatWlogHeader(header)}\n`);
      const stats = new WlogStatistics(beginLsid, endLsid);
      // The log's end is found while reading: the line shows bytes and the rate, no total.
      const progress = startProgress(opts.bool(PROGRESS_OPTION), io.stderr);
      let progressLsid = beginLsid;
      for await (const pack of reader.packs(beginLsid, { endLsid, shrink: !opts.bool("s") })) {
        if (pack.header.nRecords === 0) break;
        await writer.writePack(pack);
        progress.add(Number(pack.nextLsid - progressLsid) * sup.pbs);
        progressLsid = pack.nextLsid;
        if (debug) log.raw(`${formatLogpack(pack.header)}\n`);
        stats.add(pack.header, sup.pbs, pack.nextLsid);
      }
      const stop = reader.stop;
      if (stop !== undefined) {
        log.debug(`stopped at lsid ${stop.lsid}: ${stop.reason} ${stop.detail}`);
      }
      if (stop?.reason === "shrunk") {
        log.warn(`shrunk the logpack at lsid ${stop.lsid}: ${stop.detail}`);
      }
      await writer.close();
      progress.finish();
      if (verbose) log.raw(`${stats.format()}\n`);
      return 0;
    }),
};
