/**
 * `walb wlog-restore`: write a wlog read from stdin into a log device (offline-tools.md §3.6).
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import { BufferedReader } from "../lib/io/stream.ts";
import { type RestoreEvent, restoreWlog } from "../lib/device/ldev_writer.ts";
import { formatLogpack, MAX_LSID, WlogReader } from "../lib/format/wlog/mod.ts";
import { type Command, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";
import { addProgressOption, countingSource, PROGRESS_OPTION, startProgress } from "./progress.ts";
import { openLogDevice } from "./wldev_info.ts";

function parser(): OptionParser {
  const p = new OptionParser("wlog-restore", {
    description: "Wlresotre: restore walb log to a log device.",
  });
  p.param("LOG_DEVICE_PATH < WLOG_FILE", "string", "");
  p.option("b", "u64", "LSID:  begin lsid to restore. (default: 0)", { default: "0" });
  p.option("e", "u64", "LSID: end lsid to restore. (default: 0xffffffffffffffff)", {
    default: "0xffffffffffffffff",
  });
  p.option("d", "i64", "DIFF: lsid diff. (default: 0)", { default: "0" });
  p.option("i", "u64", "LSID:invalidate lsid after restore. (default: no invalidation)");
  p.option("s", "u64", "SIZE: data device size for clipping. (default: no clipping)");
  p.flag("-verify", ": verify written logpack (default: no)");
  p.flag("v", ": verbose messages to stderr.");
  p.flag("debug", ": put debug logs.");
  return addProgressOption(p);
}

/** `wlog-restore` */
export const command: Command = {
  name: "wlog-restore",
  summary: "write a wlog (stdin) into a log device (test tool)",
  run: (args, io) =>
    runTool("wlog-restore", io, async ({ log, out }) => {
      const opts = parser().parse(args);
      log.debugEnabled = opts.bool("debug");
      const beginLsid = opts.big("b");
      if (beginLsid >= opts.big("e")) throw new UsageError("bgnLsid must be < endLsid.");
      const verbose = opts.bool("v");
      const lsidDiff = opts.big("d");

      await using ldev = await openLogDevice(opts.str("LOG_DEVICE_PATH < WLOG_FILE"), {
        readOnly: false,
      });
      if (!ldev.isBlockDevice) {
        log.raw("Warning: the log device does not seem to be block device.\n");
      }
      // stdin has no size: the line shows bytes read and the rate.
      const progress = startProgress(opts.bool(PROGRESS_OPTION), io.stderr);
      const source = countingSource(io.stdin, progress);
      const wlog = new WlogReader(new BufferedReader(source), { verifyPayload: false });
      const header = await wlog.readHeader();
      if (header === null) throw new UsageError("empty input, no wlog header");
      const newBegin = header.beginLsid + lsidDiff;
      if (newBegin < 0n || newBegin > MAX_LSID) {
        throw new UsageError(
          `lsid diff ${lsidDiff} moves begin lsid ${header.beginLsid} out of range`,
        );
      }
      out.line(`Try to restore lsid range [${header.beginLsid}, ${header.endLsid})`);
      if (lsidDiff !== 0n) {
        out.line(
          `Lsid map ${header.beginLsid} to ${header.beginLsid + lsidDiff} (diff ${lsidDiff})`,
        );
      }
      const report = (event: RestoreEvent) => {
        if (!verbose) return;
        if (event.kind === "skip") {
          log.raw(`SKIP ${formatLogpack(event.header)}\n`);
          return;
        }
        log.raw(
          `${
            formatLogpack(event.header)
          }\nheader ${event.header.nRecords} records\noffPb ${event.offsetPb}\n`,
        );
      };
      const { device } = ldev;
      const result = await restoreWlog(wlog, {
        readAt: (offset, length) => device.read(offset, length),
        writeAt: (offset, data) => device.write(offset, data),
        sup: ldev.sup,
      }, {
        beginLsid,
        lsidDiff,
        ...(opts.isSet("i") ? { invalidateLsid: opts.big("i") } : {}),
        ...(opts.isSet("s") ? { deviceSizeLb: opts.big("s") } : {}),
        verify: opts.bool("-verify"),
        onPack: report,
      });
      await device.flush();
      progress.finish();
      out.line(`Restored lsid range [${result.restoredBeginLsid}, ${result.restoredEndLsid}]`);
      out.line(`Wlog lsid range [${result.wlogBeginLsid}, ${result.wlogEndLsid}]`);
      out.line(`Lsid diff start ${result.lsidDiffStart} end ${result.lsidDiffEnd}`);
      return 0;
    }),
};
