/**
 * `walb wldev-show`: pretty-print the logpacks of a log device (offline-tools.md §4.2, F1–F5).
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import {
  buildWlogHeader,
  formatLogpack,
  formatWlogHeader,
  isPaddingRecord,
  type LogpackHeader,
  parseWlogHeader,
  WlogStatistics,
} from "../lib/format/wlog/mod.ts";
import { type Command, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";
import { formatSuper, openLogDevice } from "./wldev_info.ts";

function parser(): OptionParser {
  const p = new OptionParser("wldev-show", {
    description: "wldev-show: pretty-print walb log device.",
  });
  p.param("WLDEV_PATH", "string", ": input walb log device  path.");
  p.option("b", "u64", "LSID: begin lsid. (default: 0)", { default: "0" });
  p.option("e", "u64", "LSID: end lsid. (default: 0xffffffffffffffff)", {
    default: "0xffffffffffffffff",
  });
  p.flag("super", ": show super block.");
  p.flag("head", ": show file header.");
  p.flag("pack", ": show packs.");
  p.flag("stat", ": show statistics.");
  p.flag("noaio", ": do not use aio");
  p.flag("f", ": ignore oldest lsid in the super block.");
  p.flag("search", ": search IOs with a specified address.");
  p.option("addr", "u64", "ADDRESS: address to search [logical block].", { default: "0" });
  p.option("iosize", "u32", "SIZE: io size to search [logical block].", { default: "1" });
  p.flag("debug", ": put debug messages to stderr.");
  return p;
}

/** True if a record of the pack overlaps [addressLb, addressLb + sizeLb) (paddings at 0). */
function packTouches(header: LogpackHeader, addressLb: bigint, sizeLb: bigint): boolean {
  return header.records.some((record) => {
    const offset = BigInt(isPaddingRecord(record) ? 0 : record.offset);
    return offset < addressLb + sizeLb && addressLb < offset + BigInt(record.ioSize);
  });
}

/** `wldev-show` */
export const command: Command = {
  name: "wldev-show",
  summary: "pretty-print the logpacks of a log device",
  run: (args, io) =>
    runTool("wldev-show", io, async ({ log, out }) => {
      const opts = parser().parse(args);
      log.debugEnabled = opts.bool("debug");
      const endLsid = opts.big("e");
      if (opts.big("b") >= endLsid) throw new UsageError("bgnLsid must be < endLsid.");
      let showHead = opts.bool("head");
      let showPack = opts.bool("pack");
      let showStat = opts.bool("stat");
      if (!showHead && !showPack && !showStat) showHead = showPack = showStat = true;
      const search = opts.bool("search");
      const addressLb = opts.big("addr");
      const sizeLb = opts.big("iosize");

      await using ldev = await openLogDevice(opts.str("WLDEV_PATH"), { readOnly: true });
      const { sup, reader } = ldev;
      let beginLsid = opts.big("b");
      if (!opts.bool("f") && sup.oldestLsid > beginLsid) beginLsid = sup.oldestLsid;
      if (beginLsid >= endLsid) {
        throw new UsageError(`bgnLsid must be < endLsid.: begin ${beginLsid} (oldest lsid)`);
      }
      if (opts.bool("super")) out.line(formatSuper(sup));
      if (showHead) {
        const header = parseWlogHeader(
          buildWlogHeader({ salt: sup.salt, pbs: sup.pbs, uuid: sup.uuid, beginLsid, endLsid }),
        );
        out.line(formatWlogHeader(header));
      }
      const stats = new WlogStatistics(beginLsid, endLsid);
      for await (const pack of reader.packs(beginLsid, { endLsid, readData: false })) {
        if (showPack && (!search || packTouches(pack.header, addressLb, sizeLb))) {
          out.line(formatLogpack(pack.header));
        }
        stats.add(pack.header, sup.pbs, pack.nextLsid);
      }
      const stop = reader.stop;
      if (stop !== undefined) {
        log.debug(`stopped at lsid ${stop.lsid}: ${stop.reason} ${stop.detail}`);
      }
      if (showStat) out.line(stats.format());
      return 0;
    }),
};
