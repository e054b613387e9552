/**
 * `walb wlog-show`: pretty-print a wlog (offline-tools.md §3.2, formats F1–F4).
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import { BufferedReader, type ByteSource } from "../lib/io/stream.ts";
import {
  formatLogpack,
  formatLogRecord,
  formatWlogHeader,
  isNormalRecord,
  payloadChecksum,
  WlogReader,
  WlogStatistics,
} from "../lib/format/wlog/mod.ts";
import { type Command, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";

function parser(): OptionParser {
  const p = new OptionParser("wlog-show", { description: "wlog-show: pretty-print wlog input." });
  p.param("WLOG_PATH", "string", ": input wlog path. '-' for stdin. (default: '-')", {
    default: "-",
  });
  p.option("b", "u64", "LSID: begin lsid. (default: 0)", { default: "0" });
  p.option("e", "u64", "LSID: end lsid. (default: 0xffffffffffffffff)", {
    default: "0xffffffffffffffff",
  });
  p.flag("head", ": show file header.");
  p.flag("pack", ": show packs.");
  p.flag("stat", ": show statistics.");
  p.flag("none", ": show nothing.");
  p.flag("validate", ": validate each IO checksum.");
  p.flag("debug", ": put debug messages to stderr.");
  return p;
}

/** `wlog-show` (exit 1 also when `-validate` finds a bad record: a fix of the original). */
export const command: Command = {
  name: "wlog-show",
  summary: "pretty-print a wlog",
  run: (args, io) =>
    runTool("wlog-show", io, async ({ log, out }) => {
      const opts = parser().parse(args);
      log.debugEnabled = opts.bool("debug");
      if (opts.big("b") >= opts.big("e")) throw new UsageError("beginLsid must be < endLsid.");
      let showHead = opts.bool("head");
      let showPack = opts.bool("pack");
      let showStat = opts.bool("stat");
      if (!showHead && !showPack && !showStat) showHead = showPack = showStat = true;
      if (opts.bool("none")) showHead = showPack = showStat = false;
      const validate = opts.bool("validate");

      const path = opts.str("WLOG_PATH");
      using file = path === "-" ? undefined : await Deno.open(path);
      const source: ByteSource = file ?? io.stdin;
      const wlog = new WlogReader(new BufferedReader(source), { verifyPayload: false });
      const header = await wlog.readHeader();
      if (header === null) throw new UsageError(`${path}: empty input, no wlog header`);
      if (showHead) out.line(formatWlogHeader(header));
      const stats = new WlogStatistics(header.beginLsid, header.endLsid);
      let badCount = 0;
      for await (const pack of wlog.packs()) {
        if (showPack) out.line(formatLogpack(pack.header));
        if (validate) {
          for (const { record, payload } of pack.ios) {
            if (!isNormalRecord(record)) continue;
            const computed = payloadChecksum(payload, header.salt);
            if (computed === record.checksum) {
              log.debug(`OK:${formatLogRecord(record)}`);
            } else {
              badCount++;
              log.error(`NG:${formatLogRecord(record)}:${computed.toString(16)}`);
            }
          }
        }
        stats.add(pack.header, header.pbs, pack.nextLsid);
      }
      log.debug(
        `stopped at offset ${wlog.stop?.offset}: ${wlog.stop?.reason} ${wlog.stop?.detail}`,
      );
      if (showStat) out.line(stats.format());
      return badCount === 0 ? 0 : 1;
    }),
};
