/**
 * Redo at assembly (device-and-wlog.md §5.8 step 6, §3.8): apply every valid pack from
 * written_lsid to the ddev; at the first normal record whose payload fails its checksum,
 * drop the pack (record 0) or truncate its header and rewrite it, and stop.
 *
 * @module
 */
import { CorruptDataError } from "../../errors.ts";
import { LOGICAL_BLOCK_SIZE } from "../../format/wlog/constants.ts";
import {
  encodeLogpackHeader,
  isDiscardRecord,
  isNormalRecord,
  nextLsidOf,
  shrinkLogpackHeader,
} from "../../format/wlog/logpack.ts";
import type { BlockDevice } from "../block/block_device.ts";
import { applyDataIos, type DataIo } from "./data_io.ts";
import type { LdevRing } from "./ldev.ts";
import { type LdevIo, readLogpackAt } from "./log_reader.ts";

/** What redo did. */
export interface RedoResult {
  /** lsid after the last redone pack: the new latest/written lsid. */
  endLsid: bigint;
  /** Packs applied (a truncated pack counts). */
  packCount: number;
  /** "shrunk" when the last pack was truncated, "dropped" when it was dropped. */
  truncation: "none" | "shrunk" | "dropped";
  /** Why redo stopped at `endLsid`. */
  reason: string;
}

/** Converts a pack's records into ddev IOs (padding skipped), checking the device range. */
export function recordsToDataIos(
  ios: readonly LdevIo[],
  deviceSizeBytes: number,
  offsetOnLdev: number,
): DataIo[] {
  const result: DataIo[] = [];
  for (const { record, payload } of ios) {
    if (!isNormalRecord(record) && !isDiscardRecord(record)) continue;
    if (record.ioSize === 0) continue;
    const offsetBytes = record.offset * LOGICAL_BLOCK_SIZE;
    const lengthBytes = record.ioSize * LOGICAL_BLOCK_SIZE;
    if (offsetBytes + lengthBytes > deviceSizeBytes) {
      throw new CorruptDataError(
        "logpack record",
        offsetOnLdev,
        `IO at ${record.offset} lb of ${record.ioSize} lb ends past the device size ` +
          `${deviceSizeBytes / LOGICAL_BLOCK_SIZE} lb`,
      );
    }
    result.push({ offsetBytes, lengthBytes, data: isDiscardRecord(record) ? null : payload });
  }
  return result;
}

/**
 * Redoes the log from `fromLsid` onto the ddev (not flushed here: the caller flushes the ddev
 * before it persists the new written lsid).
 *
 * @throws {CorruptDataError} when a valid pack holds an IO past the device size
 */
export async function redoLog(
  ring: LdevRing,
  ddev: BlockDevice,
  options: { salt: number; fromLsid: bigint; deviceSizeBytes: number },
): Promise<RedoResult> {
  let lsid = options.fromLsid;
  let packCount = 0;
  for (;;) {
    const pack = await readLogpackAt(ring, lsid, options.salt);
    if (pack.kind === "invalid") {
      return { endLsid: lsid, packCount, truncation: "none", reason: pack.problem };
    }
    const bad = pack.badRecordIndex;
    const kept = bad === undefined ? pack.ios : pack.ios.slice(0, bad);
    await applyDataIos(
      ddev,
      recordsToDataIos(kept, options.deviceSizeBytes, ring.byteOffset(lsid)),
    );
    if (bad === undefined) {
      packCount++;
      lsid = pack.nextLsid;
      continue;
    }
    const reason = `record ${bad} payload checksum fails`;
    if (bad === 0) return { endLsid: lsid, packCount, truncation: "dropped", reason };
    const shrunk = shrinkLogpackHeader(pack.header, bad, ring.pbs);
    await ring.write(lsid, encodeLogpackHeader(shrunk, { pbs: ring.pbs, salt: options.salt }));
    await ring.device.flush();
    return { endLsid: nextLsidOf(shrunk), packCount: packCount + 1, truncation: "shrunk", reason };
  }
}
