/**
 * `walb wdev-redo`: an offline driver redo, the logs of an ldev from its written lsid applied to
 * a ddev, then the written lsid advanced (offline-tools.md §4.4). A test tool.
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import {
  buildEndBlock,
  buildSuperSector,
  formatLogpack,
  type LogpackHeader,
  SUPER_SECTOR_OFFSET,
} from "../lib/format/wlog/mod.ts";
import { type Command, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";
import { addProgressOption, PROGRESS_OPTION, startProgress } from "./progress.ts";
import { formatSuper, openLogDevice } from "./wldev_info.ts";
import { openRedoTarget, Redoer, verifyApplicablePbs } from "./wlog_redo.ts";

function parser(): OptionParser {
  const p = new OptionParser("wdev-redo", {
    description:
      "Redo logs from ldev on ddev.\nWalb device will redo automatically.\nThis is just for test.\n",
  });
  p.param("LDEV_PATH", "string", "");
  p.param("DDEV_PATH", "string", "");
  p.flag("d", ": issue discard for discard logs.");
  p.flag("z", ": zero-clear for discard logs.");
  p.flag("noaio", ": do not use aio");
  p.flag("v", ": verbose messages to stderr.");
  p.flag("debug", ": put debug messages to stderr.");
  return addProgressOption(p);
}

/** `wdev-redo` */
export const command: Command = {
  name: "wdev-redo",
  summary: "apply the logs of a log device to a data device (test tool)",
  run: (args, io) =>
    runTool("wdev-redo", io, async ({ log, out }) => {
      const opts = parser().parse(args);
      log.debugEnabled = opts.bool("debug");
      const doDiscard = opts.bool("d");
      const doZero = opts.bool("z");
      if (doDiscard && doZero) throw new UsageError("Do not specify both -d and -z together.");
      const verbose = opts.bool("v");

      await using ldev = await openLogDevice(opts.str("LDEV_PATH"), { readOnly: false });
      await using target = await openRedoTarget(opts.str("DDEV_PATH"), { discard: doDiscard });
      const { sup, reader, device } = ldev;
      verifyApplicablePbs(sup.pbs, target.pbs);
      if (verbose) out.line(formatSuper(sup));

      const redoer = new Redoer(target, {
        pbs: sup.pbs,
        salt: sup.salt,
        doDiscard,
        doZero,
        skipChecksum: false,
        trace: verbose ? out : undefined,
      });
      const beginLsid = sup.writtenLsid;
      let last: { header: LogpackHeader; block: Uint8Array; shrunk: boolean } | undefined;
      // The log's end is found while reading: the line shows bytes and the rate, no total.
      const progress = startProgress(opts.bool(PROGRESS_OPTION), io.stderr);
      let progressLsid = beginLsid;
      try {
        for await (const pack of reader.packs(beginLsid)) {
          last = pack;
          if (pack.header.nRecords > 0) await redoer.applyPack(pack.header, pack.ios);
          progress.add(Number(pack.nextLsid - progressLsid) * sup.pbs);
          progressLsid = pack.nextLsid;
        }
      } finally {
        progress.finish();
      }
      const endLsid = reader.endLsid;
      const stop = reader.stop;
      if (stop !== undefined) {
        log.debug(`stopped at lsid ${stop.lsid}: ${stop.reason} ${stop.detail}`);
      }
      await target.sync();
      out.line(redoer.stats.format(beginLsid, endLsid));
      if (last === undefined || endLsid === beginLsid) return 0;

      if (verbose) {
        out.line(`isShrinked: ${last.shrunk ? 1 : 0}`);
        out.line(`writtenLsid: ${endLsid}`);
        out.line(`lastPackHeader: ${formatLogpack(last.header)}`);
      }
      if (last.shrunk) {
        const block = last.header.nRecords === 0 ? buildEndBlock(sup.pbs, sup.salt) : last.block;
        await device.write(reader.byteOffsetOf(last.header.logpackLsid), block);
      }
      await device.write(SUPER_SECTOR_OFFSET, buildSuperSector({ ...sup, writtenLsid: endLsid }));
      await device.flush();
      return 0;
    }),
};
