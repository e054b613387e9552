/**
 * Dumps of logpack header blocks into the volume directory as `logpackheader-<lsid>`: written
 * when wlog extraction meets an invalid logpack before its limit (device-and-wlog.md §3.8), and
 * on request by `dbg-dump-logpack-header VOL LSID` (protocol-and-servers.md §1.9.5). The block
 * is the raw pb of the ldev at that lsid, unchecked, for later analysis.
 *
 * @module
 */
import type { WalbDevice } from "../../device/wdev.ts";
import type { StorageContext, StorageVolume } from "./volume.ts";

/**
 * The dump file name of the pb at `lsid`.
 *
 * @example
 * ```ts
 * import { logpackDumpName } from "./logpack_dump.ts";
 * if (logpackDumpName(1234n) !== "logpackheader-1234") throw new Error();
 * ```
 */
export function logpackDumpName(lsid: bigint): string {
  return `logpackheader-${lsid}`;
}

/**
 * Reads the pb at `lsid` from the device's log and writes it to
 * `<volDir>/logpackheader-<lsid>` (atomically, mode 0644, replacing an older dump).
 *
 * @returns the path written
 */
export async function dumpLogpackHeader(
  context: StorageContext,
  volume: StorageVolume,
  device: WalbDevice,
  lsid: bigint,
): Promise<string> {
  const block = await device.readLogPb(lsid);
  const path = context.store.filePath(volume.volId, logpackDumpName(lsid));
  await context.store.fs.writeFileAtomic(path, block);
  return path;
}

/**
 * {@link dumpLogpackHeader} for the extraction path: the dump is an aid, so a failure to write
 * it is logged (ERROR) and does not replace the extraction error being reported.
 */
export async function dumpBadLogpack(
  context: StorageContext,
  volume: StorageVolume,
  device: WalbDevice,
  lsid: bigint,
): Promise<void> {
  try {
    const path = await dumpLogpackHeader(context, volume, device, lsid);
    context.runtime.log("WARNING", `invalid logpack dumped:${volume.volId}:${lsid}:${path}`);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    context.runtime.log("ERROR", `cannot dump logpack header:${volume.volId}:${lsid}:${detail}`);
  }
}
