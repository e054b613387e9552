/**
 * `walb wlog-redo`: apply a wlog to a block device or image file (offline-tools.md §3.4,
 * statistics F10). Always behaves like `-noaio`: IOs are written in order, one at a time.
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import { BufferedReader, type ByteSource, writeAll } from "../lib/io/stream.ts";
import {
  formatLogpack,
  formatLogRecord,
  isDiscardRecord,
  isPaddingRecord,
  lbToPbCount,
  LOGICAL_BLOCK_SIZE,
  payloadChecksum,
  WlogReader,
} from "../lib/format/wlog/mod.ts";
import { type Command, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";

/** Zero writes for `-z` are cut into pieces of this many lb, each counted as one IO. */
const ZERO_IO_LB_MAX = 512;

function parser(): OptionParser {
  const p = new OptionParser("wlog-redo", { description: "Redo wlog on a block device." });
  p.param("DEVICE_PATH", "string", "");
  p.option("i", "string", "PATH: input wlog path. '-' for stdin. (default: '-')", {
    default: "-",
  });
  p.flag("d", "issue discard for discard logs.");
  p.flag("z", "zero-clear for discard logs.");
  p.flag("noaio", ": do not use aio");
  p.flag("skipcsum", ": skip checksum validation");
  p.flag("v", ": verbose messages to stderr.");
  p.flag("debug", ": put debug messages to stderr.");
  return p;
}

/** Counters of F10. */
class RedoStatistics {
  normalLb = 0;
  discardLb = 0;
  allZeroLb = 0;
  ignoredLb = 0;
  paddingPb = 0;
  normalIoCount = 0;
  normalIoLb = 0;
  discardIoCount = 0;
  discardIoLb = 0;

  format(beginLsid: bigint, endLsid: bigint): string {
    const n = (value: number) => String(value).padStart(10);
    return [
      `Applied lsid range [${beginLsid}, ${endLsid})`,
      `normal:  ${n(this.normalLb)} LB`,
      `discard: ${n(this.discardLb)} LB`,
      `allZero: ${n(this.allZeroLb)} LB`,
      `ignored: ${n(this.ignoredLb)} LB`,
      `padding: ${n(this.paddingPb)} PB`,
      `normal:      ${n(this.normalIoCount)} ( ${n(this.normalIoLb)} LB)`,
      `discard:     ${n(this.discardIoCount)} ( ${n(this.discardIoLb)} LB)`,
      // Without aio every queued IO is written and none is overwritten; nothing is clipped.
      `written:     ${n(this.normalIoCount)} ( ${n(this.normalIoLb)} LB)`,
      `overwritten: ${n(0)} ( ${n(0)} LB)`,
      `clipped:     ${n(0)} ( ${n(0)} LB)`,
    ].join("\n");
  }
}

/** Physical block size of the target: 512 for files, sysfs for block devices. */
async function targetPbs(path: string, stat: Deno.FileInfo): Promise<number> {
  if (!stat.isBlockDevice || stat.rdev === null) return LOGICAL_BLOCK_SIZE;
  const major = Math.floor(stat.rdev / 256) & 0xfff;
  const minor = (stat.rdev & 0xff) | (Math.floor(stat.rdev / 4096) & 0xfff00);
  for (const dir of ["queue", "../queue"]) {
    try {
      const text = await Deno.readTextFile(
        `/sys/dev/block/${major}:${minor}/${dir}/physical_block_size`,
      );
      const pbs = Number(text.trim());
      if (Number.isInteger(pbs) && pbs > 0) return pbs;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  throw new UsageError(`${path}: cannot find the physical block size of the block device`);
}

async function writeAt(file: Deno.FsFile, offsetLb: number, bytes: Uint8Array): Promise<void> {
  await file.seek(offsetLb * LOGICAL_BLOCK_SIZE, Deno.SeekMode.Start);
  await writeAll(file, bytes);
}

/** `wlog-redo` */
export const command: Command = {
  name: "wlog-redo",
  summary: "apply a wlog to a device or image file",
  run: (args, io) =>
    runTool("wlog-redo", io, async ({ log, out }) => {
      const opts = parser().parse(args);
      log.debugEnabled = opts.bool("debug");
      const doDiscard = opts.bool("d");
      const doZero = opts.bool("z");
      if (doDiscard && doZero) throw new UsageError("Do not specify both -d and -z together.");
      const skipChecksum = opts.bool("skipcsum");
      const verbose = opts.bool("v");
      const devicePath = opts.str("DEVICE_PATH");
      const inputPath = opts.str("i");

      const stat = await Deno.stat(devicePath);
      if (doDiscard) {
        // BLKDISCARD needs an ioctl; it is not implemented yet (docs/compatibility.md).
        throw new UsageError(
          stat.isBlockDevice
            ? `ioctl(BLKDISCARD) is not implemented yet: ${devicePath}; use -z`
            : `ioctl(BLKDISCARD) failed: ${devicePath} is not a block device; use -z`,
        );
      }
      const devicePbs = await targetPbs(devicePath, stat);
      using device = await Deno.open(devicePath, { read: true, write: true });
      using input = inputPath === "-" ? undefined : await Deno.open(inputPath);
      const source: ByteSource = input ?? io.stdin;
      const wlog = new WlogReader(new BufferedReader(source), { verifyPayload: false });
      const header = await wlog.readHeader();
      if (header === null) throw new UsageError(`${inputPath}: empty input, no wlog header`);
      const { pbs, salt } = header;
      if (devicePbs > pbs || pbs % devicePbs !== 0) {
        throw new UsageError(
          `verifyApplicablePbs:Physical block size does not match:${pbs}:${devicePbs}`,
        );
      }

      const stats = new RedoStatistics();
      let zeros: Uint8Array | undefined;
      for await (const pack of wlog.packs()) {
        if (verbose) out.line(formatLogpack(pack.header));
        for (const [index, { record, payload }] of pack.ios.entries()) {
          if (isPaddingRecord(record)) {
            stats.paddingPb += lbToPbCount(record.ioSize, pbs);
          } else if (isDiscardRecord(record)) {
            if (!doZero) {
              stats.ignoredLb += record.ioSize;
              continue;
            }
            stats.allZeroLb += record.ioSize;
            if (verbose) out.line(`CREATE\t\t${record.offset}\t${record.ioSize}`);
            zeros ??= new Uint8Array(ZERO_IO_LB_MAX * LOGICAL_BLOCK_SIZE);
            for (let done = 0; done < record.ioSize; done += ZERO_IO_LB_MAX) {
              const pieceLb = Math.min(ZERO_IO_LB_MAX, record.ioSize - done);
              await writeAt(device, record.offset + done, zeros.subarray(0, pieceLb * 512));
              stats.normalIoCount++;
              stats.normalIoLb += pieceLb;
            }
          } else {
            const computed = payloadChecksum(payload, salt);
            if (computed !== record.checksum && !skipChecksum) {
              throw new UsageError(
                `run:invalid log IO:${index}:${formatLogRecord(record)}:${computed.toString(16)}`,
              );
            }
            stats.normalLb += record.ioSize;
            if (verbose) out.line(`CREATE\t\t${record.offset}\t${record.ioSize}`);
            await writeAt(device, record.offset, payload);
            stats.normalIoCount++;
            stats.normalIoLb += record.ioSize;
          }
        }
      }
      if (stat.isFile || stat.isBlockDevice) await device.syncData();
      out.line(stats.format(header.beginLsid, wlog.endLsid));
      return 0;
    }),
};
