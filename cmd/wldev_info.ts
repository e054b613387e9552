/**
 * `walb wldev-info`: print the super block of a log device (offline-tools.md §4.1, F5), and the
 * helpers the other log-device tools share: {@link openLogDevice} and {@link formatSuper}.
 *
 * @module
 */
import { CorruptDataError } from "../lib/errors.ts";
import { type BlockDevice, openBlockDevice } from "../lib/device/block/mod.ts";
import { LdevLogReader, readLdevSuper } from "../lib/device/ldev_reader.ts";
import { ringBufferOffsetPb, type SuperSector, uuidToHex } from "../lib/format/wlog/mod.ts";
import { type Command, runTool } from "./command.ts";
import { OptionParser } from "./option.ts";

/** An opened log device with its super sector. */
export interface LogDevice extends AsyncDisposable {
  device: BlockDevice;
  isBlockDevice: boolean;
  sup: SuperSector;
  reader: LdevLogReader;
}

/**
 * Opens a log device (a block device with O_DIRECT, or an image file) and reads its super.
 * The pbs comes from the super; on a block device it must equal BLKPBSZGET.
 *
 * @throws {Error} `super block is invalid.` with the reason as cause
 */
export async function openLogDevice(
  path: string,
  options: { readOnly: boolean },
): Promise<LogDevice> {
  const stat = await Deno.stat(path);
  const device = await openBlockDevice(path, { readOnly: options.readOnly });
  try {
    const readAt = (offset: number, length: number) => device.read(offset, length);
    const check = stat.isBlockDevice ? { devicePbs: device.physicalBlockSize } : {};
    let sup: SuperSector;
    try {
      sup = (await readLdevSuper(readAt, { sizeBytes: device.sizeBytes, ...check })).sup;
    } catch (error) {
      if (!(error instanceof CorruptDataError)) throw error;
      throw new Error("super block is invalid.", { cause: error });
    }
    return {
      device,
      isBlockDevice: stat.isBlockDevice === true,
      sup,
      reader: new LdevLogReader(readAt, sup),
      [Symbol.asyncDispose]: () => device.close(),
    };
  } catch (error) {
    await device.close();
    throw error;
  }
}

/** F5: the 14 `key: value` lines of a super block (no trailing newline). */
export function formatSuper(sup: SuperSector): string {
  return [
    `sectorType: ${sup.sectorType}`,
    `version: ${sup.version}`,
    `checksum: ${sup.checksum}`,
    `lbs: ${sup.logicalBs}`,
    `pbs: ${sup.pbs}`,
    `metadataSize: ${sup.metadataSize}`,
    `salt: ${sup.salt}`,
    `name: ${sup.name}`,
    `ringBufferSize: ${sup.ringBufferSize}`,
    `oldestLsid: ${sup.oldestLsid}`,
    `writtenLsid: ${sup.writtenLsid}`,
    `deviceSize: ${sup.deviceSize}`,
    `ringBufferOffset: ${ringBufferOffsetPb(sup.pbs, sup.metadataSize)}`,
    `uuid: ${uuidToHex(sup.uuid)}`,
  ].join("\n");
}

function parser(): OptionParser {
  const p = new OptionParser("wldev-info", {
    description: "Wlinfo: show superblock information of a log device.",
  });
  p.param("LOG_DEVICE_PATH", "string", "");
  p.flag("v", ": verbose messages to stderr.");
  return p;
}

/** `wldev-info` */
export const command: Command = {
  name: "wldev-info",
  summary: "print the super block of a log device",
  run: (args, io) =>
    runTool("wldev-info", io, async ({ out }) => {
      const opts = parser().parse(args);
      await using ldev = await openLogDevice(opts.str("LOG_DEVICE_PATH"), { readOnly: true });
      out.line(formatSuper(ldev.sup));
      return 0;
    }),
};
