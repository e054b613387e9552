/**
 * `walb wldev-dump`: write the raw pb of an lsid range of a log device, each read at its ring
 * position, without validation (offline-tools.md §4.3).
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import { type ByteSink, writeAll } from "../lib/io/stream.ts";
import { type Command, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";
import { openLogDevice } from "./wldev_info.ts";

/** Bytes read from the ldev per step. */
const DUMP_CHUNK_BYTES = 1024 * 1024;

function parser(): OptionParser {
  const p = new OptionParser("wldev-dump", {
    description: "wldev-dump: dump lsid range from a walb log device.",
  });
  p.param("LOG_DEVICE_PATH", "string", "");
  p.param("BEGIN_LSID", "u64", "");
  p.param("END_LSID", "u64", "");
  p.option("o", "string", "PATH: output dump file path. '-' for stdout. (default: '-')", {
    default: "-",
  });
  p.flag("noaio", ": do not use aio.");
  p.flag("debug", ": debug print to stderr.");
  return p;
}

/** `wldev-dump` */
export const command: Command = {
  name: "wldev-dump",
  summary: "dump the raw blocks of an lsid range of a log device",
  run: (args, io) =>
    runTool("wldev-dump", io, async ({ log }) => {
      const opts = parser().parse(args);
      log.debugEnabled = opts.bool("debug");
      const beginLsid = opts.big("BEGIN_LSID");
      const endLsid = opts.big("END_LSID");
      if (beginLsid >= endLsid) throw new UsageError("bgnLsid must be < endLsid.");

      await using ldev = await openLogDevice(opts.str("LOG_DEVICE_PATH"), { readOnly: true });
      const { sup, reader } = ldev;
      const outputPath = opts.str("o");
      using file = outputPath === "-" ? undefined : await Deno.open(outputPath, {
        write: true,
        create: true,
        truncate: true,
        mode: 0o644,
      });
      const sink: ByteSink = file ?? io.stdout;
      const chunkPb = BigInt(DUMP_CHUNK_BYTES / sup.pbs);
      for (let lsid = beginLsid; lsid < endLsid;) {
        const countPb = endLsid - lsid < chunkPb ? endLsid - lsid : chunkPb;
        await writeAll(sink, await reader.readBlocks(lsid, Number(countPb)));
        lsid += countPb;
      }
      if (file !== undefined && (await file.stat()).isFile) await file.sync();
      return 0;
    }),
};
