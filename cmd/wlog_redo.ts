/**
 * `walb wlog-redo`: apply a wlog to a block device or image file (offline-tools.md §3.4,
 * statistics F10). Always behaves like `-noaio`: IOs are written in order, one at a time.
 * `-d` issues BLKDISCARD on block devices (O_DIRECT). Also exports the redo engine that
 * wdev-redo shares.
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import { BufferedReader, type ByteSource, writeAll } from "../lib/io/stream.ts";
import { openBlockDevice } from "../lib/device/block/mod.ts";
import {
  formatLogpack,
  formatLogRecord,
  isDiscardRecord,
  isPaddingRecord,
  lbToPbCount,
  LOGICAL_BLOCK_SIZE,
  type LogpackHeader,
  type LogpackIo,
  payloadChecksum,
  WlogReader,
} from "../lib/format/wlog/mod.ts";
import { type Command, runTool, type TextOut } from "./command.ts";
import { OptionParser } from "./option.ts";
import {
  addProgressOption,
  countingSource,
  inputSizeOf,
  PROGRESS_OPTION,
  startProgress,
} from "./progress.ts";

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
  return addProgressOption(p);
}

/** Counters of F10. */
export class RedoStatistics {
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
  const text = await readBlockQueueFile(path, stat, "physical_block_size");
  const pbs = Number(text.trim());
  if (!Number.isInteger(pbs) || pbs <= 0) {
    throw new UsageError(`${path}: cannot find the physical block size of the block device`);
  }
  return pbs;
}

/** Reads /sys/dev/block/MAJOR:MINOR/queue/NAME (or the parent's, for a partition). */
async function readBlockQueueFile(
  path: string,
  stat: Deno.FileInfo,
  name: string,
): Promise<string> {
  const rdev = stat.rdev ?? 0;
  const major = Math.floor(rdev / 256) & 0xfff;
  const minor = (rdev & 0xff) | (Math.floor(rdev / 4096) & 0xfff00);
  for (const dir of ["queue", "../queue"]) {
    try {
      return await Deno.readTextFile(`/sys/dev/block/${major}:${minor}/${dir}/${name}`);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  throw new UsageError(`${path}: cannot read the block queue attribute ${name}`);
}

/** Where redo writes: an image file (grows as needed) or a block device (O_DIRECT). */
export interface RedoTarget extends AsyncDisposable {
  /** Physical block size: 512 for files, BLKPBSZGET for block devices. */
  pbs: number;
  write(offsetLb: number, data: Uint8Array): Promise<void>;
  /** BLKDISCARD (block devices only). */
  discard(offsetLb: number, sizeLb: number): Promise<void>;
  /** fdatasync. */
  sync(): Promise<void>;
}

/**
 * Opens the target of a redo. With `discard`, the target must be a block device that
 * supports discard: the original's BLKDISCARD fails on anything else, and failing before the
 * first write leaves the target untouched.
 */
export async function openRedoTarget(
  path: string,
  options: { discard: boolean },
): Promise<RedoTarget> {
  const stat = await Deno.stat(path);
  if (options.discard && !stat.isBlockDevice) {
    throw new UsageError(`ioctl(BLKDISCARD) failed: ${path} is not a block device; use -z`);
  }
  if (options.discard) {
    const maxBytes = Number((await readBlockQueueFile(path, stat, "discard_max_bytes")).trim());
    if (maxBytes === 0) {
      throw new UsageError(`ioctl(BLKDISCARD) failed: ${path} does not support discard; use -z`);
    }
  }
  const pbs = await targetPbs(path, stat);
  if (stat.isBlockDevice) {
    const device = await openBlockDevice(path, { direct: true });
    return {
      pbs,
      write: (offsetLb, data) => device.write(offsetLb * LOGICAL_BLOCK_SIZE, data),
      discard: (offsetLb, sizeLb) =>
        device.discard(offsetLb * LOGICAL_BLOCK_SIZE, sizeLb * LOGICAL_BLOCK_SIZE),
      sync: () => device.flush(),
      [Symbol.asyncDispose]: () => device.close(),
    };
  }
  const file = await Deno.open(path, { read: true, write: true });
  return {
    pbs,
    write: async (offsetLb, data) => {
      await file.seek(offsetLb * LOGICAL_BLOCK_SIZE, Deno.SeekMode.Start);
      await writeAll(file, data);
    },
    discard: () => Promise.reject(new UsageError(`ioctl(BLKDISCARD) failed: ${path}`)),
    sync: async () => {
      if (stat.isFile) await file.syncData();
    },
    [Symbol.asyncDispose]: () => Promise.resolve(file.close()),
  };
}

/** Checks that logs of `logPbs` can be applied to a target of `targetPbs`. */
export function verifyApplicablePbs(logPbs: number, targetPbs: number): void {
  if (targetPbs > logPbs || logPbs % targetPbs !== 0) {
    throw new UsageError(
      `verifyApplicablePbs:Physical block size does not match:${logPbs}:${targetPbs}`,
    );
  }
}

/** Options of {@link Redoer}. */
export interface RedoOptions {
  pbs: number;
  salt: number;
  doDiscard: boolean;
  doZero: boolean;
  skipChecksum: boolean;
  /** Where the `-v` trace goes (pack texts and CREATE lines), or undefined. */
  trace: TextOut | undefined;
}

/** Applies packs to a target in order and counts F10. */
export class Redoer {
  readonly stats = new RedoStatistics();
  readonly #target: RedoTarget;
  readonly #options: RedoOptions;
  #zeros: Uint8Array | undefined;

  constructor(target: RedoTarget, options: RedoOptions) {
    this.#target = target;
    this.#options = options;
  }

  /** Applies one pack: normal data written, discards issued/zeroed/ignored, padding skipped. */
  async applyPack(header: LogpackHeader, ios: LogpackIo[]): Promise<void> {
    const { pbs, salt, doDiscard, doZero, skipChecksum, trace } = this.#options;
    const stats = this.stats;
    trace?.line(formatLogpack(header));
    for (const [index, { record, payload }] of ios.entries()) {
      if (isPaddingRecord(record)) {
        stats.paddingPb += lbToPbCount(record.ioSize, pbs);
      } else if (isDiscardRecord(record)) {
        if (doDiscard) {
          await this.#target.discard(record.offset, record.ioSize);
          stats.discardLb += record.ioSize;
          stats.discardIoCount++;
          stats.discardIoLb += record.ioSize;
          continue;
        }
        if (!doZero) {
          stats.ignoredLb += record.ioSize;
          continue;
        }
        stats.allZeroLb += record.ioSize;
        trace?.line(`CREATE\t\t${record.offset}\t${record.ioSize}`);
        this.#zeros ??= new Uint8Array(ZERO_IO_LB_MAX * LOGICAL_BLOCK_SIZE);
        for (let done = 0; done < record.ioSize; done += ZERO_IO_LB_MAX) {
          const pieceLb = Math.min(ZERO_IO_LB_MAX, record.ioSize - done);
          await this.#target.write(record.offset + done, this.#zeros.subarray(0, pieceLb * 512));
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
        trace?.line(`CREATE\t\t${record.offset}\t${record.ioSize}`);
        await this.#target.write(record.offset, payload);
        stats.normalIoCount++;
        stats.normalIoLb += record.ioSize;
      }
    }
  }
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
      const devicePath = opts.str("DEVICE_PATH");
      const inputPath = opts.str("i");

      await using target = await openRedoTarget(devicePath, { discard: doDiscard });
      using input = inputPath === "-" ? undefined : await Deno.open(inputPath);
      const progress = startProgress(opts.bool(PROGRESS_OPTION), io.stderr, {
        totalBytes: await inputSizeOf(inputPath),
      });
      const source: ByteSource = countingSource(input ?? io.stdin, progress);
      const wlog = new WlogReader(new BufferedReader(source), { verifyPayload: false });
      const header = await wlog.readHeader();
      if (header === null) throw new UsageError(`${inputPath}: empty input, no wlog header`);
      verifyApplicablePbs(header.pbs, target.pbs);

      const redoer = new Redoer(target, {
        pbs: header.pbs,
        salt: header.salt,
        doDiscard,
        doZero,
        skipChecksum: opts.bool("skipcsum"),
        trace: opts.bool("v") ? out : undefined,
      });
      try {
        for await (const pack of wlog.packs()) await redoer.applyPack(pack.header, pack.ios);
        await target.sync();
      } finally {
        progress.finish();
      }
      out.line(redoer.stats.format(header.beginLsid, wlog.endLsid));
      return 0;
    }),
};
